// sqlite3_config() is variadic, which Swift cannot call: these wrappers can be.
#include <sqlite3.h>

/// sqlite3_config(SQLITE_CONFIG_MULTITHREAD): no mutex on each API call of a connection
/// that one thread at a time uses. Must run before SQLite's first connection opens;
/// returns SQLITE_MISUSE (and changes nothing) afterwards.
int glassbox_sqlite_config_multithread(void);
