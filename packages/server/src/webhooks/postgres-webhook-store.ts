/**
 * Webhooks and deliveries in PostgreSQL (migration 4). Replicas share them: fan-out is idempotent
 * (one delivery per webhook and event, ON CONFLICT DO NOTHING), and senders claim due deliveries
 * with FOR UPDATE SKIP LOCKED and a lease, so two replicas never send one delivery at once.
 */
import type { PostgresEventLog, PushPool } from '../watch/postgres-event-log.js';
import { parentConditionPg, toLoggedEvent } from '../watch/postgres-event-log.js';
import {
  type AttemptOutcome,
  type ClaimedDelivery,
  type DeliveryQuery,
  type DeliveryRecord,
  type DeliveryState,
  type FanOutDecision,
  type FanOutResult,
  type NewWebhook,
  WEBHOOK_EVENT_TYPES,
  type WebhookChange,
  type WebhookEventType,
  type WebhookRecord,
  type WebhookStore,
} from './webhook-store.js';

const WEBHOOK_COLUMNS = 'name, parent, uri, filter, events, secret, create_time, update_time, start_event_id';
const DELIVERY_FIELDS = [
  'seq',
  'id',
  'webhook',
  'event_id',
  'event_type',
  'operation',
  'body',
  'state',
  'attempts',
  'next_attempt_time',
  'lease_until',
  'last_attempt_time',
  'last_status',
  'last_error',
  'create_time',
  'update_time',
];
const DELIVERY_COLUMNS = DELIVERY_FIELDS.join(', ');
const EVENT_COLUMNS = `id, time, type, name, parent, done, metadata, error, response, create_time, update_time,
  done_time, cancel_request_time`;

interface WebhookRow {
  name: string;
  parent: string;
  uri: string;
  filter: string;
  events: string;
  secret: string;
  create_time: string;
  update_time: string;
  start_event_id: string;
}

interface DeliveryRow {
  seq: string;
  id: string;
  webhook: string;
  event_id: string;
  event_type: WebhookEventType;
  operation: string;
  body: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_time: string | null;
  lease_until: string | null;
  last_attempt_time: string | null;
  last_status: number | null;
  last_error: string | null;
  create_time: string;
  update_time: string;
}

const millis = (value: string | null): number | null => (value === null ? null : Number(value));

function toWebhook(row: WebhookRow): WebhookRecord {
  return {
    name: row.name,
    parent: row.parent,
    uri: row.uri,
    filter: row.filter,
    events: row.events.split(',').filter((e) => e !== '') as WebhookEventType[],
    secret: row.secret,
    createTime: Number(row.create_time),
    updateTime: Number(row.update_time),
    startEventId: Number(row.start_event_id),
  };
}

function toDelivery(row: DeliveryRow): DeliveryRecord {
  return {
    seq: Number(row.seq),
    id: row.id,
    webhook: row.webhook,
    eventId: Number(row.event_id),
    eventType: row.event_type,
    operation: row.operation,
    body: row.body,
    state: row.state,
    attempts: row.attempts,
    nextAttemptTime: millis(row.next_attempt_time),
    leaseUntil: millis(row.lease_until),
    lastAttemptTime: millis(row.last_attempt_time),
    lastStatus: row.last_status,
    lastError: row.last_error,
    createTime: Number(row.create_time),
    updateTime: Number(row.update_time),
  };
}

export class PostgresWebhookStore implements WebhookStore {
  readonly #db: PushPool;
  readonly #log: PostgresEventLog;

  constructor(db: PushPool, log: PostgresEventLog) {
    this.#db = db;
    this.#log = log;
  }

  async createWebhook(webhook: NewWebhook): Promise<WebhookRecord | undefined> {
    const startEventId = await this.#log.head();
    const { rows } = await this.#db.query<WebhookRow>(
      `INSERT INTO longrun_webhooks (${WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (name) DO NOTHING RETURNING ${WEBHOOK_COLUMNS}`,
      [
        webhook.name,
        webhook.parent,
        webhook.uri,
        webhook.filter,
        webhook.events.join(','),
        webhook.secret,
        webhook.createTime,
        webhook.updateTime,
        startEventId,
      ],
    );
    return rows[0] && toWebhook(rows[0]);
  }

  async getWebhook(name: string): Promise<WebhookRecord | undefined> {
    const { rows } = await this.#db.query<WebhookRow>(
      `SELECT ${WEBHOOK_COLUMNS} FROM longrun_webhooks WHERE name = $1`,
      [name],
    );
    return rows[0] && toWebhook(rows[0]);
  }

  async listWebhooks(parent: string, limit: number, afterName?: string): Promise<WebhookRecord[]> {
    const condition = parentConditionPg(parent, 1);
    const params = [...condition.params];
    let sql = `SELECT ${WEBHOOK_COLUMNS} FROM longrun_webhooks WHERE ${condition.sql}`;
    if (afterName !== undefined) {
      params.push(afterName);
      sql += ` AND name > $${params.length}`;
    }
    params.push(limit);
    sql += ` ORDER BY name LIMIT $${params.length}`;
    const { rows } = await this.#db.query<WebhookRow>(sql, params);
    return rows.map(toWebhook);
  }

  async updateWebhook(name: string, change: WebhookChange): Promise<WebhookRecord | undefined> {
    const { rows } = await this.#db.query<WebhookRow>(
      `UPDATE longrun_webhooks SET uri = $2, filter = $3, events = $4, secret = $5, update_time = $6 WHERE name = $1
       RETURNING ${WEBHOOK_COLUMNS}`,
      [name, change.uri, change.filter, change.events.join(','), change.secret, change.updateTime],
    );
    return rows[0] && toWebhook(rows[0]);
  }

  async deleteWebhook(name: string): Promise<boolean> {
    // Its deliveries go with it (ON DELETE CASCADE).
    const { rowCount } = await this.#db.query('DELETE FROM longrun_webhooks WHERE name = $1', [name]);
    return rowCount === 1;
  }

  async fanOut(after: number, limit: number, decide: FanOutDecision, persist: boolean): Promise<FanOutResult> {
    // The head first: a webhook created after it starts after it.
    const head = await this.#log.head();
    const { rows: hooks } = await this.#db.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM longrun_webhooks`);
    let through = Math.max(head, after);
    let inserted = 0;
    if (head > after && hooks.length > 0) {
      const { rows } = await this.#db.query<Parameters<typeof toLoggedEvent>[0]>(
        `SELECT ${EVENT_COLUMNS} FROM longrun_operation_events
           WHERE id > $1 AND id <= $2 AND type = ANY($3::text[]) ORDER BY id LIMIT $4`,
        [after, head, WEBHOOK_EVENT_TYPES, limit],
      );
      const events = rows.map(toLoggedEvent);
      if (events.length === limit) through = events[events.length - 1]!.id;
      const deliveries = events.length === 0 ? [] : decide(events, hooks.map(toWebhook));
      if (deliveries.length > 0) {
        const now = Date.now();
        const result = await this.#db.query(
          `INSERT INTO longrun_webhook_deliveries (id, webhook, event_id, event_type, operation, body, state, attempts,
               next_attempt_time, create_time, update_time)
             SELECT d.id, d.webhook, d.event_id, d.event_type, d.operation, d.body, 'PENDING', 0, $7, $7, $7
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])
               AS d (id, webhook, event_id, event_type, operation, body)
             WHERE EXISTS (SELECT 1 FROM longrun_webhooks w WHERE w.name = d.webhook)
             ON CONFLICT DO NOTHING`,
          [
            deliveries.map((d) => d.id),
            deliveries.map((d) => d.webhook),
            deliveries.map((d) => d.eventId),
            deliveries.map((d) => d.eventType),
            deliveries.map((d) => d.operation),
            deliveries.map((d) => d.body),
            now,
          ],
        );
        inserted = result.rowCount ?? 0;
      }
    }
    if (inserted > 0 || persist) {
      await this.#db.query(
        `UPDATE longrun_push_state SET value = greatest(value, $1) WHERE key = 'webhooks_fanned_out_through'`,
        [through],
      );
    }
    return { through, inserted, webhooks: hooks.length > 0 };
  }

  async fanOutCursor(): Promise<number> {
    const { rows } = await this.#db.query<{ value: string }>(
      `SELECT value FROM longrun_push_state WHERE key = 'webhooks_fanned_out_through'`,
    );
    return Number(rows[0]!.value);
  }

  async claimDue(now: number, leaseUntil: number, limit: number): Promise<ClaimedDelivery[]> {
    const { rows } = await this.#db.query<DeliveryRow & { uri: string; secret: string }>(
      `WITH due AS (
         SELECT seq FROM longrun_webhook_deliveries
         WHERE state = 'PENDING' AND next_attempt_time <= $1 AND (lease_until IS NULL OR lease_until <= $1)
         ORDER BY next_attempt_time LIMIT $3 FOR UPDATE SKIP LOCKED
       )
       UPDATE longrun_webhook_deliveries d SET lease_until = $2 FROM due, longrun_webhooks w
       WHERE d.seq = due.seq AND w.name = d.webhook
       RETURNING ${DELIVERY_FIELDS.map((field) => `d.${field}`).join(', ')}, w.uri, w.secret`,
      [now, leaseUntil, limit],
    );
    return rows
      .map((row) => ({ ...toDelivery(row), uri: row.uri, secret: row.secret, leaseUntil }))
      .sort((a, b) => (a.nextAttemptTime ?? 0) - (b.nextAttemptTime ?? 0));
  }

  async finishAttempt(id: string, leaseUntil: number, outcome: AttemptOutcome): Promise<boolean> {
    const { rowCount } = await this.#db.query(
      `UPDATE longrun_webhook_deliveries SET state = $3, attempts = $4, next_attempt_time = $5, lease_until = NULL,
         last_attempt_time = $6, last_status = $7, last_error = $8, update_time = $6
       WHERE id = $1 AND lease_until = $2`,
      [
        id,
        leaseUntil,
        outcome.state,
        outcome.attempts,
        outcome.nextAttemptTime,
        outcome.time,
        outcome.lastStatus,
        outcome.lastError,
      ],
    );
    return rowCount === 1;
  }

  async releaseLease(id: string, leaseUntil: number): Promise<void> {
    await this.#db.query(
      'UPDATE longrun_webhook_deliveries SET lease_until = NULL WHERE id = $1 AND lease_until = $2',
      [id, leaseUntil],
    );
  }

  async nextDue(): Promise<number | undefined> {
    const { rows } = await this.#db.query<{ due: string | null }>(
      `SELECT min(greatest(next_attempt_time, coalesce(lease_until, 0))) AS due FROM longrun_webhook_deliveries
       WHERE state = 'PENDING'`,
    );
    return rows[0]?.due == null ? undefined : Number(rows[0].due);
  }

  async listDeliveries(webhook: string, query: DeliveryQuery): Promise<DeliveryRecord[]> {
    const params: unknown[] = [webhook];
    let sql = `SELECT ${DELIVERY_COLUMNS} FROM longrun_webhook_deliveries WHERE webhook = $1`;
    if (query.state !== undefined) {
      params.push(query.state);
      sql += ` AND state = $${params.length}`;
    }
    if (query.beforeSeq !== undefined) {
      params.push(query.beforeSeq);
      sql += ` AND seq < $${params.length}`;
    }
    params.push(query.limit);
    sql += ` ORDER BY seq DESC LIMIT $${params.length}`;
    const { rows } = await this.#db.query<DeliveryRow>(sql, params);
    return rows.map(toDelivery);
  }

  async getDelivery(webhook: string, id: string): Promise<DeliveryRecord | undefined> {
    const { rows } = await this.#db.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM longrun_webhook_deliveries WHERE webhook = $1 AND id = $2`,
      [webhook, id],
    );
    return rows[0] && toDelivery(rows[0]);
  }

  async redeliver(webhook: string, id: string, now: number): Promise<DeliveryRecord | undefined> {
    const { rows } = await this.#db.query<DeliveryRow>(
      `UPDATE longrun_webhook_deliveries SET state = 'PENDING', attempts = 0, next_attempt_time = $3, lease_until = NULL,
         update_time = $3
       WHERE webhook = $1 AND id = $2 RETURNING ${DELIVERY_COLUMNS}`,
      [webhook, id, now],
    );
    return rows[0] && toDelivery(rows[0]);
  }

  async pruneDeliveries(before: number, limit: number): Promise<number> {
    const { rowCount } = await this.#db.query(
      `DELETE FROM longrun_webhook_deliveries WHERE seq IN (SELECT seq FROM longrun_webhook_deliveries
         WHERE state <> 'PENDING' AND update_time < $1 LIMIT $2)`,
      [before, limit],
    );
    return rowCount ?? 0;
  }
}
