/**
 * Webhooks and deliveries in the SQLite file (migration 3), through the store's connection. Each
 * method is one transaction; SQLite's single writer makes claims and fan-out exclusive.
 */
import type Database from 'better-sqlite3';
import type { EventType } from '../watch/event-log.js';
import { parentCondition, registerPushFunctions, runSqlite, toLoggedEvent } from '../watch/sqlite-event-log.js';
import {
  type AttemptOutcome,
  type ClaimedDelivery,
  type DeliveryQuery,
  type DeliveryRecord,
  type FanOutDecision,
  type FanOutResult,
  type NewWebhook,
  WEBHOOK_EVENT_TYPES,
  type WebhookChange,
  type WebhookEventType,
  type WebhookRecord,
  type WebhookStore,
} from './webhook-store.js';

const WEBHOOK_COLUMNS = `name, parent, uri, filter, events, secret, create_time AS createTime, update_time AS updateTime,
  start_event_id AS startEventId`;

/** The delivery columns as `DeliveryRecord` fields, optionally qualified by a table alias. */
function deliveryColumns(t = ''): string {
  return `${t}seq AS seq, ${t}id AS id, ${t}webhook AS webhook, ${t}event_id AS eventId, ${t}event_type AS eventType,
    ${t}operation AS operation, ${t}body AS body, ${t}state AS state, ${t}attempts AS attempts,
    ${t}next_attempt_time AS nextAttemptTime, ${t}lease_until AS leaseUntil, ${t}last_attempt_time AS lastAttemptTime,
    ${t}last_status AS lastStatus, ${t}last_error AS lastError, ${t}create_time AS createTime,
    ${t}update_time AS updateTime`;
}

const DELIVERY_COLUMNS = deliveryColumns();

const EVENT_COLUMNS = `id, time, type, name, parent, done, metadata, error, response, create_time AS createTime,
  update_time AS updateTime, done_time AS doneTime, cancel_request_time AS cancelRequestTime`;

type WebhookRow = Omit<WebhookRecord, 'events'> & { events: string };

function toWebhook(row: WebhookRow): WebhookRecord {
  return { ...row, events: row.events.split(',').filter((e) => e !== '') as WebhookEventType[] };
}

const HEAD = `max(coalesce((SELECT max(id) FROM operation_events), 0),
  (SELECT value FROM push_state WHERE key = 'events_pruned_through'))`;

export class SqliteWebhookStore implements WebhookStore {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.#db = db;
    registerPushFunctions(db);
  }

  #prepare(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      if (this.#statements.size < 200) this.#statements.set(sql, statement);
    }
    return statement;
  }

  createWebhook(webhook: NewWebhook): Promise<WebhookRecord | undefined> {
    return runSqlite(() => {
      const create = this.#db.transaction(() => {
        const startEventId = this.#prepare(`SELECT ${HEAD}`).pluck().get() as number;
        const info = this.#prepare(
          `INSERT INTO webhooks (name, parent, uri, filter, events, secret, create_time, update_time, start_event_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
        ).run(
          webhook.name,
          webhook.parent,
          webhook.uri,
          webhook.filter,
          webhook.events.join(','),
          webhook.secret,
          webhook.createTime,
          webhook.updateTime,
          startEventId,
        );
        return info.changes === 1 ? { ...webhook, startEventId } : undefined;
      });
      return create.immediate();
    });
  }

  getWebhook(name: string): Promise<WebhookRecord | undefined> {
    return runSqlite(() => {
      const row = this.#prepare(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE name = ?`).get(name) as
        | WebhookRow
        | undefined;
      return row && toWebhook(row);
    });
  }

  listWebhooks(parent: string, limit: number, afterName?: string): Promise<WebhookRecord[]> {
    return runSqlite(() => {
      const condition = parentCondition(parent);
      const params = [...condition.params];
      let sql = `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE ${condition.sql}`;
      if (afterName !== undefined) {
        sql += ' AND name > ?';
        params.push(afterName);
      }
      sql += ' ORDER BY name LIMIT ?';
      params.push(limit);
      return (this.#prepare(sql).all(...params) as WebhookRow[]).map(toWebhook);
    });
  }

  updateWebhook(name: string, change: WebhookChange): Promise<WebhookRecord | undefined> {
    return runSqlite(() => {
      const row = this.#prepare(
        `UPDATE webhooks SET uri = ?, filter = ?, events = ?, secret = ?, update_time = ? WHERE name = ?
         RETURNING ${WEBHOOK_COLUMNS}`,
      ).get(change.uri, change.filter, change.events.join(','), change.secret, change.updateTime, name) as
        | WebhookRow
        | undefined;
      return row && toWebhook(row);
    });
  }

  deleteWebhook(name: string): Promise<boolean> {
    return runSqlite(() => {
      const remove = this.#db.transaction(() => {
        this.#prepare('DELETE FROM webhook_deliveries WHERE webhook = ?').run(name);
        return this.#prepare('DELETE FROM webhooks WHERE name = ?').run(name).changes === 1;
      });
      return remove.immediate();
    });
  }

  fanOut(after: number, limit: number, decide: FanOutDecision, persist: boolean): Promise<FanOutResult> {
    return runSqlite(() => {
      // No webhooks (the common case): nothing to insert, and no write lock taken on every wake.
      // The head is read first: a webhook created after it starts after it.
      const head = this.#prepare(`SELECT ${HEAD}`).pluck().get() as number;
      if (this.#prepare('SELECT EXISTS (SELECT 1 FROM webhooks)').pluck().get() !== 1) {
        const through = Math.max(head, after);
        if (persist) {
          this.#prepare(`UPDATE push_state SET value = max(value, ?) WHERE key = 'webhooks_fanned_out_through'`).run(
            through,
          );
        }
        return { through, inserted: 0, webhooks: false };
      }
      const run = this.#db.transaction((): FanOutResult => {
        const head = this.#prepare(`SELECT ${HEAD}`).pluck().get() as number;
        let through = head;
        let inserted = 0;
        const any = this.#prepare('SELECT EXISTS (SELECT 1 FROM webhooks)').pluck().get() === 1;
        if (any && head > after) {
          const types = WEBHOOK_EVENT_TYPES as readonly EventType[];
          const rows = this.#prepare(
            `SELECT ${EVENT_COLUMNS} FROM operation_events WHERE id > ? AND id <= ? AND type IN (${types.map(() => '?').join(', ')})
             ORDER BY id LIMIT ?`,
          ).all(after, head, ...types, limit) as Parameters<typeof toLoggedEvent>[0][];
          const events = rows.map(toLoggedEvent);
          if (events.length === limit) through = events[events.length - 1]!.id;
          if (events.length > 0) {
            const webhooks = (this.#prepare(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks`).all() as WebhookRow[]).map(
              toWebhook,
            );
            const insert = this.#prepare(
              `INSERT INTO webhook_deliveries (id, webhook, event_id, event_type, operation, body, state, attempts,
                 next_attempt_time, create_time, update_time)
               VALUES (?, ?, ?, ?, ?, ?, 'PENDING', 0, ?, ?, ?) ON CONFLICT DO NOTHING`,
            );
            const now = Date.now();
            for (const delivery of decide(events, webhooks)) {
              inserted += insert.run(
                delivery.id,
                delivery.webhook,
                delivery.eventId,
                delivery.eventType,
                delivery.operation,
                delivery.body,
                now,
                now,
                now,
              ).changes;
            }
          }
        }
        if (inserted > 0 || persist) {
          this.#prepare(`UPDATE push_state SET value = max(value, ?) WHERE key = 'webhooks_fanned_out_through'`).run(
            through,
          );
        }
        return { through: Math.max(through, after), inserted, webhooks: any };
      });
      return run.immediate();
    });
  }

  fanOutCursor(): Promise<number> {
    return runSqlite(
      () =>
        this.#prepare(`SELECT value FROM push_state WHERE key = 'webhooks_fanned_out_through'`).pluck().get() as number,
    );
  }

  claimDue(now: number, leaseUntil: number, limit: number): Promise<ClaimedDelivery[]> {
    return runSqlite(() => {
      const claim = this.#db.transaction(() => {
        const rows = this.#prepare(
          `SELECT ${deliveryColumns('d.')}, w.uri AS uri, w.secret AS secret
           FROM webhook_deliveries d JOIN webhooks w ON w.name = d.webhook
           WHERE d.state = 'PENDING' AND d.next_attempt_time <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?)
           ORDER BY d.next_attempt_time LIMIT ?`,
        ).all(now, now, limit) as ClaimedDelivery[];
        const lease = this.#prepare('UPDATE webhook_deliveries SET lease_until = ? WHERE seq = ?');
        for (const row of rows) {
          lease.run(leaseUntil, row.seq);
          row.leaseUntil = leaseUntil;
        }
        return rows;
      });
      return claim.immediate();
    });
  }

  finishAttempt(id: string, leaseUntil: number, outcome: AttemptOutcome): Promise<boolean> {
    return runSqlite(
      () =>
        this.#prepare(
          `UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_time = ?, lease_until = NULL,
             last_attempt_time = ?, last_status = ?, last_error = ?, update_time = ?
           WHERE id = ? AND lease_until = ?`,
        ).run(
          outcome.state,
          outcome.attempts,
          outcome.nextAttemptTime,
          outcome.time,
          outcome.lastStatus,
          outcome.lastError,
          outcome.time,
          id,
          leaseUntil,
        ).changes === 1,
    );
  }

  releaseLease(id: string, leaseUntil: number): Promise<void> {
    return runSqlite(() => {
      this.#prepare('UPDATE webhook_deliveries SET lease_until = NULL WHERE id = ? AND lease_until = ?').run(
        id,
        leaseUntil,
      );
    });
  }

  nextDue(): Promise<number | undefined> {
    return runSqlite(() => {
      const time = this.#prepare(
        `SELECT min(max(next_attempt_time, coalesce(lease_until, 0))) FROM webhook_deliveries WHERE state = 'PENDING'`,
      )
        .pluck()
        .get() as number | null;
      return time ?? undefined;
    });
  }

  listDeliveries(webhook: string, query: DeliveryQuery): Promise<DeliveryRecord[]> {
    return runSqlite(() => {
      let sql = `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook = ?`;
      const params: unknown[] = [webhook];
      if (query.state !== undefined) {
        sql += ' AND state = ?';
        params.push(query.state);
      }
      if (query.beforeSeq !== undefined) {
        sql += ' AND seq < ?';
        params.push(query.beforeSeq);
      }
      sql += ' ORDER BY seq DESC LIMIT ?';
      params.push(query.limit);
      return this.#prepare(sql).all(...params) as DeliveryRecord[];
    });
  }

  getDelivery(webhook: string, id: string): Promise<DeliveryRecord | undefined> {
    return runSqlite(
      () =>
        this.#prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook = ? AND id = ?`).get(
          webhook,
          id,
        ) as DeliveryRecord | undefined,
    );
  }

  redeliver(webhook: string, id: string, now: number): Promise<DeliveryRecord | undefined> {
    return runSqlite(
      () =>
        this.#prepare(
          `UPDATE webhook_deliveries SET state = 'PENDING', attempts = 0, next_attempt_time = ?, lease_until = NULL,
             update_time = ?
           WHERE webhook = ? AND id = ? RETURNING ${DELIVERY_COLUMNS}`,
        ).get(now, now, webhook, id) as DeliveryRecord | undefined,
    );
  }

  pruneDeliveries(before: number, limit: number): Promise<number> {
    return runSqlite(
      () =>
        this.#prepare(
          `DELETE FROM webhook_deliveries WHERE seq IN (SELECT seq FROM webhook_deliveries
             WHERE state <> 'PENDING' AND update_time < ? LIMIT ?)`,
        ).run(before, limit).changes,
    );
  }
}
