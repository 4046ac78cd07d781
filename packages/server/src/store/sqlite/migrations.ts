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
  // 2: retention finds expired done operations and overdue pending ones without a scan.
  `CREATE INDEX operations_done_time ON operations (done_time) WHERE done = 1;
   CREATE INDEX operations_pending_create ON operations (create_time) WHERE done = 0;`,
  // 3: the event log behind watch streams and webhooks (packages/server/src/watch/, webhooks/).
  // - Triggers (the store itself since migration 5) append to operation_events in the same
  //   transaction as each write to operations, so the log can never miss a change or hold one that
  //   was rolled back; ids increase in commit order (SQLite has one writer at a time) and are
  //   never reused (AUTOINCREMENT).
  // - Each row is a snapshot of the operation after the change (for 'deleted', as it was last).
  // - One update may append two rows, in this order: 'cancel_requested' then 'done' (a cancel with
  //   no grace period); 'progress' is any other change of metadata.
  // - push_state: how far the log was pruned (resumes from before that are refused) and how far
  //   webhook deliveries were fanned out from it.
  `CREATE TABLE operation_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     time INTEGER NOT NULL,
     type TEXT NOT NULL,
     name TEXT NOT NULL,
     parent TEXT NOT NULL,
     done INTEGER NOT NULL,
     metadata TEXT,
     error TEXT,
     response TEXT,
     create_time INTEGER NOT NULL,
     update_time INTEGER NOT NULL,
     done_time INTEGER,
     cancel_request_time INTEGER
   );
   CREATE INDEX operation_events_by_name ON operation_events (name, id);
   CREATE INDEX operation_events_by_parent ON operation_events (parent, id);
   CREATE TRIGGER operation_events_insert AFTER INSERT ON operations BEGIN
     INSERT INTO operation_events (time, type, name, parent, done, metadata, error, response, create_time, update_time, done_time, cancel_request_time)
     VALUES (NEW.update_time, 'created', NEW.name, NEW.parent, NEW.done, NEW.metadata, NEW.error, NEW.response,
       NEW.create_time, NEW.update_time, NEW.done_time, NEW.cancel_request_time);
     INSERT INTO operation_events (time, type, name, parent, done, metadata, error, response, create_time, update_time, done_time, cancel_request_time)
     SELECT NEW.update_time, 'done', NEW.name, NEW.parent, NEW.done, NEW.metadata, NEW.error, NEW.response,
       NEW.create_time, NEW.update_time, NEW.done_time, NEW.cancel_request_time
     WHERE NEW.done <> 0;
   END;
   CREATE TRIGGER operation_events_update AFTER UPDATE ON operations BEGIN
     INSERT INTO operation_events (time, type, name, parent, done, metadata, error, response, create_time, update_time, done_time, cancel_request_time)
     SELECT NEW.update_time, 'cancel_requested', NEW.name, NEW.parent, NEW.done, NEW.metadata, NEW.error, NEW.response,
       NEW.create_time, NEW.update_time, NEW.done_time, NEW.cancel_request_time
     WHERE OLD.cancel_request_time IS NULL AND NEW.cancel_request_time IS NOT NULL;
     INSERT INTO operation_events (time, type, name, parent, done, metadata, error, response, create_time, update_time, done_time, cancel_request_time)
     SELECT NEW.update_time, 'done', NEW.name, NEW.parent, NEW.done, NEW.metadata, NEW.error, NEW.response,
       NEW.create_time, NEW.update_time, NEW.done_time, NEW.cancel_request_time
     WHERE OLD.done = 0 AND NEW.done <> 0;
     INSERT INTO operation_events (time, type, name, parent, done, metadata, error, response, create_time, update_time, done_time, cancel_request_time)
     SELECT NEW.update_time, 'progress', NEW.name, NEW.parent, NEW.done, NEW.metadata, NEW.error, NEW.response,
       NEW.create_time, NEW.update_time, NEW.done_time, NEW.cancel_request_time
     WHERE OLD.done = NEW.done AND NOT (OLD.cancel_request_time IS NULL AND NEW.cancel_request_time IS NOT NULL)
       AND NEW.metadata IS NOT OLD.metadata;
   END;
   CREATE TRIGGER operation_events_delete AFTER DELETE ON operations BEGIN
     INSERT INTO operation_events (time, type, name, parent, done, metadata, error, response, create_time, update_time, done_time, cancel_request_time)
     VALUES (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), 'deleted', OLD.name, OLD.parent, OLD.done, OLD.metadata, OLD.error, OLD.response,
       OLD.create_time, OLD.update_time, OLD.done_time, OLD.cancel_request_time);
   END;
   CREATE TABLE push_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
   INSERT INTO push_state (key, value) VALUES ('events_pruned_through', 0), ('webhooks_fanned_out_through', 0);
   CREATE TABLE webhooks (
     name TEXT PRIMARY KEY,
     parent TEXT NOT NULL,
     uri TEXT NOT NULL,
     filter TEXT NOT NULL,
     events TEXT NOT NULL,
     secret TEXT NOT NULL,
     create_time INTEGER NOT NULL,
     update_time INTEGER NOT NULL,
     start_event_id INTEGER NOT NULL
   );
   CREATE INDEX webhooks_by_parent ON webhooks (parent, name);
   CREATE TABLE webhook_deliveries (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     webhook TEXT NOT NULL,
     event_id INTEGER NOT NULL,
     event_type TEXT NOT NULL,
     operation TEXT NOT NULL,
     body TEXT NOT NULL,
     state TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_time INTEGER,
     lease_until INTEGER,
     last_attempt_time INTEGER,
     last_status INTEGER,
     last_error TEXT,
     create_time INTEGER NOT NULL,
     update_time INTEGER NOT NULL,
     UNIQUE (webhook, event_id)
   );
   CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_time) WHERE state = 'PENDING';
   CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook, seq);
   CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (update_time) WHERE state <> 'PENDING';`,
  // 4: one operation's events are read through its parent's index (name and parent together), so
  // the log keeps one index fewer: each logged event cost twice as much with it.
  `DROP INDEX operation_events_by_name;`,
  // 5: the store appends events itself, in the write's transaction (store/change-events.ts decides
  // which); triggers made every write's statement open a statement journal and cost a quarter of it.
  `DROP TRIGGER operation_events_insert;
   DROP TRIGGER operation_events_update;
   DROP TRIGGER operation_events_delete;`,
];
