/**
 * `longrun webhooks …`: manage webhook subscriptions and their deliveries on a running server
 * (docs/watch-and-webhooks.md). Connection flags, `--json` and errors read as in every client
 * command (command.ts); lists print a table, the rest the resource as JSON.
 */
import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { ApiError, Code, codeFromName } from '@longrun/client';
import { type ClientFlags, clientCommand, printJson, printText } from './command.js';

/** What the API answers, as far as these commands read it. */
interface Answer {
  [field: string]: unknown;
  nextPageToken?: string;
}

interface WebhookJson {
  name: string;
  uri: string;
  events?: string[];
  filter?: string;
}

interface DeliveryJson {
  name: string;
  deliveryId: string;
  state: string;
  attempts: number;
  event: string;
  operation: string;
  lastError?: string;
  lastStatusCode?: number;
}

const EVENTS = ['done', 'cancel_requested'];
const STATES = ['PENDING', 'SUCCEEDED', 'FAILED'];

function parseEvents(value: string): string[] {
  const events = value
    .split(',')
    .map((event) => event.trim())
    .filter((event) => event !== '');
  for (const event of events) {
    if (!EVENTS.includes(event)) throw new InvalidArgumentError(`"${event}" is not one of ${EVENTS.join(', ')}`);
  }
  return events;
}

/** A URL path for a resource name: each segment encoded, the slashes kept. */
function pathOf(name: string): string {
  return name
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

function collectionPath(parent: string, collection: string): string {
  return parent === '' ? collection : `${pathOf(parent)}/${collection}`;
}

/** One REST call; an error answer is thrown as the client SDK's ApiError (bin.ts prints it as one line). */
async function call(flags: ClientFlags, method: string, path: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (flags.token) headers.authorization = `Bearer ${flags.token}`;
  if (flags.apiKey) headers['x-goog-api-key'] = flags.apiKey;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${flags.endpoint.replace(/\/+$/, '')}/v1/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new Error(`cannot reach ${flags.endpoint}${cause ? ` (${cause})` : ''}`);
  }
  const text = await response.text();
  let json: Answer & { error?: { status?: string; message?: string; details?: [] } } = {};
  try {
    json = text === '' ? {} : JSON.parse(text);
  } catch {
    // Not JSON: reported below when the status is an error.
  }
  if (!response.ok) {
    throw new ApiError({
      code: (json.error?.status && codeFromName(json.error.status)) || Code.UNKNOWN,
      message: json.error?.message ?? (text || response.statusText),
      httpStatus: response.status,
      details: json.error?.details ?? [],
    });
  }
  return json;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Every page of a list. */
async function listAll<T>(
  flags: ClientFlags,
  path: string,
  field: string,
  query: Record<string, string>,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = new URLSearchParams({ ...query, pageSize: '1000', ...(token ? { pageToken: token } : {}) });
    const json = await call(flags, 'GET', `${path}?${page}`);
    items.push(...((json[field] as T[] | undefined) ?? []));
    token = json.nextPageToken;
  } while (token);
  return items;
}

export function webhooksCommand() {
  const create = clientCommand('create')
    .description('Subscribe a URL to operations under a parent (prints the signing secret, shown only now)')
    .argument('[parent]', 'the parent, such as projects/acme; the top level when omitted', '')
    .requiredOption('--uri <url>', 'where deliveries are POSTed (http or https)')
    .option('--id <id>', "the webhook's id; the server assigns one when omitted")
    .option('--filter <filter>', 'an AIP-160 filter over the operation, such as "metadata.kind = \\"export\\""')
    .option('--events <events>', `comma-separated, of ${EVENTS.join(', ')} (default done)`, parseEvents)
    .option('--secret <secret>', 'the signing secret, 16 to 256 characters (default: generated)')
    .action(async (parent, options) => {
      const query = options.id === undefined ? '' : `?webhookId=${encodeURIComponent(options.id)}`;
      const body = { uri: options.uri, filter: options.filter, events: options.events, secret: options.secret };
      printJson(await call(options, 'POST', `${collectionPath(parent, 'webhooks')}${query}`, body));
    });

  const list = clientCommand('list')
    .description('List the webhooks under a parent')
    .argument('[parent]', 'the parent (projects/- for every project); the top level when omitted', '')
    .action(async (parent, options) => {
      const webhooks = await listAll<WebhookJson>(options, collectionPath(parent, 'webhooks'), 'webhooks', {});
      if (options.json) printJson(webhooks.length === 0 ? {} : { webhooks });
      else if (webhooks.length === 0) printText('No webhooks.');
      else {
        printText(
          table([
            ['NAME', 'URI', 'EVENTS', 'FILTER'],
            ...webhooks.map((w) => [w.name, w.uri, (w.events ?? []).join(','), w.filter ?? '']),
          ]),
        );
      }
    });

  const get = clientCommand('get')
    .description('Show a webhook')
    .argument('<name>', "the webhook's name ({parent}/webhooks/{id})")
    .action(async (name, options) => printJson(await call(options, 'GET', pathOf(name))));

  const update = clientCommand('update')
    .description('Change a webhook')
    .argument('<name>', "the webhook's name")
    .option('--uri <url>', 'a new URL')
    .option('--filter <filter>', 'a new filter ("" for none)')
    .option('--events <events>', `comma-separated, of ${EVENTS.join(', ')}`, parseEvents)
    .option('--rotate-secret', 'replace the signing secret with a new one (printed)')
    .action(async (name, options) => {
      const body = { uri: options.uri, filter: options.filter, events: options.events };
      const mask = (['uri', 'filter', 'events'] as const).filter((field) => options[field] !== undefined) as string[];
      if (options.rotateSecret) mask.push('secret');
      if (mask.length === 0) throw new Error('nothing to update: give --uri, --filter, --events or --rotate-secret');
      printJson(await call(options, 'PATCH', `${pathOf(name)}?updateMask=${mask.join(',')}`, body));
    });

  const remove = clientCommand('delete')
    .description('Delete a webhook and its deliveries')
    .argument('<name>', "the webhook's name")
    .action(async (name, options) => {
      await call(options, 'DELETE', pathOf(name));
      if (options.json) printJson({});
      else printText(`Deleted ${name}.`);
    });

  const deliveries = clientCommand('deliveries')
    .description("List a webhook's deliveries, newest first")
    .argument('<webhook>', "the webhook's name")
    .addOption(new Option('--state <state>', 'only deliveries in this state').choices(STATES))
    .action(async (webhook, options) => {
      const query: Record<string, string> = options.state ? { state: options.state } : {};
      const items = await listAll<DeliveryJson>(options, `${pathOf(webhook)}/deliveries`, 'deliveries', query);
      if (options.json) printJson(items.length === 0 ? {} : { deliveries: items });
      else if (items.length === 0) printText('No deliveries.');
      else {
        printText(
          table([
            ['DELIVERY', 'STATE', 'ATTEMPTS', 'EVENT', 'OPERATION', 'LAST ERROR'],
            ...items.map((d) => [d.deliveryId, d.state, String(d.attempts), d.event, d.operation, d.lastError ?? '']),
          ]),
        );
      }
    });

  const redeliver = clientCommand('redeliver')
    .description('Send deliveries again: one by name, or with --failed every FAILED delivery of a webhook')
    .argument('<name>', 'a delivery ({webhook}/deliveries/{id}), or with --failed a webhook')
    .option('--failed', 'redeliver every FAILED delivery of the webhook')
    .action(async (name, options) => {
      const names = options.failed
        ? (await listAll<DeliveryJson>(options, `${pathOf(name)}/deliveries`, 'deliveries', { state: 'FAILED' })).map(
            (d) => d.name,
          )
        : [name];
      for (const delivery of names) {
        const answer = await call(options, 'POST', `${pathOf(delivery)}:redeliver`);
        if (options.json) printJson(answer);
        else printText(`Redelivering ${delivery}.`);
      }
      if (names.length === 0 && !options.json) printText('No FAILED deliveries.');
    });

  const group = new Command('webhooks').description(
    'Manage webhooks: signed POSTs to a URL when operations under a parent are done (or cancel is requested)',
  );
  const subcommands = [create, list, get, update, remove, deliveries, redeliver];
  for (const subcommand of subcommands) group.addCommand(subcommand);
  // bin.ts passes the program's settings (error output, exit codes) to the group; the group passes
  // them on to its subcommands, which addCommand does not do by itself.
  const copy = group.copyInheritedSettings.bind(group);
  group.copyInheritedSettings = (source) => {
    copy(source);
    for (const subcommand of subcommands) subcommand.copyInheritedSettings(group);
    return group;
  };
  return group;
}
