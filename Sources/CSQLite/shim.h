/* SQLite, the store of a node. */
#ifndef LTS_CSQLITE_SHIM_H
#define LTS_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
