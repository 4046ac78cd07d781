/**
 * Concurrent writes to one operation resolve by the contract's rules: every acknowledged write is
 * reflected, and a write that lost the race is refused, never silently dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_ANY, startTestServer, type TestServer } from '../helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ cancelGracePeriodMs: 0 });
});
afterAll(() => server.stop());

const RESULT = { '@type': 'type.googleapis.com/r.Result', ok: true };

describe('races on one operation', () => {
  it('a completing patch and a cancel: exactly one wins', async () => {
    for (let i = 0; i < 40; i++) {
      const name = `projects/race/operations/pc${i}`;
      await server.createOperation('projects/race', `pc${i}`);
      const [patch, cancel] = await Promise.all([
        server.call('PATCH', `/v1/${name}`, { operation: { done: true, response: RESULT } }),
        server.call('POST', `/v1/${name}:cancel`),
      ]);
      expect(cancel.status).toBe(200);
      const final = (await server.call('GET', `/v1/${name}`)).json;
      if (patch.status === 200) {
        expect(final).toEqual({ name, done: true, response: RESULT });
      } else {
        expect(patch.json.error.status).toBe('FAILED_PRECONDITION');
        expect(final).toEqual({ name, done: true, error: { code: 1, message: 'The operation was cancelled.' } });
      }
    }
  });

  it('two completing patches: the first lands, the second is refused', async () => {
    for (let i = 0; i < 40; i++) {
      const name = `projects/race/operations/pp${i}`;
      await server.createOperation('projects/race', `pp${i}`);
      const bodies = [
        { operation: { done: true, response: RESULT } },
        { operation: { done: true, error: { code: 13, message: 'failed' } } },
      ];
      const answers = await Promise.all(bodies.map((body) => server.call('PATCH', `/v1/${name}`, body)));
      const won = answers.filter((a) => a.status === 200);
      expect(won).toHaveLength(1);
      expect(answers.find((a) => a.status !== 200)!.json.error.status).toBe('FAILED_PRECONDITION');
      expect((await server.call('GET', `/v1/${name}`)).json).toEqual(won[0]!.json);
    }
  });

  it('a patch and a delete: either the patch lands first or it finds nothing', async () => {
    for (let i = 0; i < 40; i++) {
      const name = `projects/race/operations/pd${i}`;
      await server.createOperation('projects/race', `pd${i}`);
      const [patch, del] = await Promise.all([
        server.call('PATCH', `/v1/${name}`, { operation: { done: true, response: EMPTY_ANY } }),
        server.call('DELETE', `/v1/${name}`),
      ]);
      expect(del.status).toBe(200);
      expect([200, 404]).toContain(patch.status);
      expect((await server.call('GET', `/v1/${name}`)).status).toBe(404);
    }
  });

  it('many progress patches: the final metadata is one that was acknowledged last', async () => {
    const name = 'projects/race/operations/progress';
    await server.createOperation('projects/race', 'progress');
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, n) =>
        server.call('PATCH', `/v1/${name}`, { operation: { metadata: { '@type': 'type.googleapis.com/r.M', n } } }),
      ),
    );
    for (const answer of answers) expect(answer.status).toBe(200);
    const final = (await server.call('GET', `/v1/${name}`)).json.metadata.n;
    expect(answers.map((a) => a.json.metadata.n)).toContain(final);
  });
});
