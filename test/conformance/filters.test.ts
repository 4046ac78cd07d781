/**
 * AIP-160 filters end to end: Spanner's documented filters, verbatim, through Google's Spanner
 * client, and paging through a filtered list with the token bound to its filter.
 */
import { google } from 'googleapis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_ANY, errorInfo, startTestServer, type TestServer } from '../helpers.js';

let server: TestServer;
const parent = 'projects/fl/instances/i/databases/d';
const RESTORE = 'type.googleapis.com/google.spanner.admin.database.v1.RestoreDatabaseMetadata';

beforeAll(async () => {
  server = await startTestServer();
  const restore = (start: string) => ({
    '@type': RESTORE,
    name: `${parent}`,
    progress: { progressPercent: 100, startTime: start },
  });
  await server.createOperation(parent, 'restore-early-failed', {
    metadata: restore('2021-03-28T10:00:00Z'),
    done: true,
    error: { code: 13, message: 'restore failed' },
  });
  await server.createOperation(parent, 'restore-late-failed', {
    metadata: restore('2021-03-29T10:00:00Z'),
    done: true,
    error: { code: 13, message: 'restore failed' },
  });
  await server.createOperation(parent, 'restore-early-ok', {
    metadata: restore('2021-03-27T10:00:00Z'),
    done: true,
    response: EMPTY_ANY,
  });
  await server.createOperation(parent, 'ddl-running', {
    metadata: {
      '@type': 'type.googleapis.com/google.spanner.admin.database.v1.UpdateDatabaseDdlMetadata',
      database: parent,
    },
  });
  for (let i = 0; i < 7; i++)
    await server.createOperation('projects/fl', `job-${i}`, {
      done: i % 2 === 0,
      ...(i % 2 === 0 ? { response: EMPTY_ANY } : {}),
    });
});
afterAll(() => server.stop());

describe("Spanner's documented filters", () => {
  const list = (filter: string) =>
    google
      .spanner({ version: 'v1', rootUrl: `${server.url}/` })
      .projects.instances.databases.operations.list({ name: `${parent}/operations`, filter })
      .then((r) => (r.data.operations ?? []).map((op) => op.name!.split('/').pop()));

  it('done:true', async () => {
    expect(await list('done:true')).toEqual(['restore-early-ok', 'restore-late-failed', 'restore-early-failed']);
  });

  it('the restore example, verbatim', async () => {
    const filter = `(metadata.@type=${RESTORE}) AND (metadata.progress.start_time < "2021-03-28T14:50:00Z") AND (error:*)`;
    expect(await list(filter)).toEqual(['restore-early-failed']);
  });

  it('metadata.@type alone, and its negation', async () => {
    expect(await list(`metadata.@type=${RESTORE}`)).toHaveLength(3);
    expect(await list(`NOT metadata.@type=${RESTORE}`)).toEqual(['ddl-running']);
    expect(await list(`-metadata.@type:${RESTORE}`)).toEqual(['ddl-running']);
  });

  it('refuses a malformed filter with a BadRequest naming the position', async () => {
    const response = await server.call(
      'GET',
      `/v1/${parent}/operations?filter=${encodeURIComponent('done = true AND (')}`,
    );
    expect(response.status).toBe(400);
    expect(errorInfo(response.json).reason).toBe('INVALID_FILTER');
    const violation = response.json.error.details.find((d: any) => d['@type'].endsWith('BadRequest'))
      .fieldViolations[0];
    expect(violation.field).toBe('filter');
    expect(violation.description).toMatch(/column \d+/);
  });
});

describe('paging a filtered list', () => {
  it('pages to the end, and a token only continues its own filter', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const query = `filter=${encodeURIComponent('done = true')}&pageSize=2${token ? `&pageToken=${token}` : ''}`;
      const page = await server.call('GET', `/v1/projects/fl/operations?${query}`);
      seen.push(...(page.json.operations ?? []).map((op: any) => op.name));
      token = page.json.nextPageToken;
    } while (token);
    expect(seen).toEqual(['job-6', 'job-4', 'job-2', 'job-0'].map((id) => `projects/fl/operations/${id}`));

    const first = await server.call('GET', `/v1/projects/fl/operations?filter=done%20%3D%20true&pageSize=1`);
    const other = await server.call(
      'GET',
      `/v1/projects/fl/operations?filter=done%20%3D%20false&pageToken=${first.json.nextPageToken}`,
    );
    expect(other.status).toBe(400);
    expect(errorInfo(other.json).reason).toBe('INVALID_PAGE_TOKEN');
  });
});
