#include "lts_sqlite_shim.h"

#include <sqlite3.h>

/* ---- SQLite ----------------------------------------------------------- */

void *lts_sqlite_transient(void)
{
    return (void *)SQLITE_TRANSIENT;
}
