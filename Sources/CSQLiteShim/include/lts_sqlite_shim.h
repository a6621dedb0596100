/*
 * lts_sqlite_shim: SQLite glue (libsqlite3): the one SQLite macro Swift
 * cannot import.
 */
#ifndef LTS_SQLITE_SHIM_H
#define LTS_SQLITE_SHIM_H

/* ---- SQLite ----------------------------------------------------------- */

/** SQLITE_TRANSIENT: a macro casting -1 to a function pointer. */
void *lts_sqlite_transient(void);

#endif
