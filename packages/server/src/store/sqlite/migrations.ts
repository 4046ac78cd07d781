/**
 * The SQLite schema, as numbered migrations applied in order; `PRAGMA user_version` records the
 * last one applied. A migration is never edited once released: add the next one.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  // 1: operations and the store's secrets.
  `CREATE TABLE operations (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL UNIQUE,
     parent TEXT NOT NULL,
     done INTEGER NOT NULL DEFAULT 0,
     metadata TEXT,
     error TEXT,
     response TEXT,
     create_time INTEGER NOT NULL,
     update_time INTEGER NOT NULL,
     done_time INTEGER,
     cancel_request_time INTEGER,
     create_hash TEXT
   );
   CREATE INDEX operations_by_parent ON operations (parent, seq);
   CREATE INDEX operations_by_parent_done ON operations (parent, done, seq);
   CREATE INDEX operations_pending_cancel ON operations (cancel_request_time)
     WHERE done = 0 AND cancel_request_time IS NOT NULL;
   CREATE TABLE secrets (key TEXT PRIMARY KEY, value BLOB NOT NULL);`,
];
