import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, resolveConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'longrun-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(content: unknown): string {
  const path = join(dir, `${Math.random()}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('resolveConfig', () => {
  it('uses the defaults when nothing is given', () => {
    expect(resolveConfig({}, {})).toEqual(DEFAULT_CONFIG);
  });

  it('takes flags over the environment over the file over the defaults', () => {
    const config = file({
      port: 1000,
      host: '127.0.0.2',
      waitMax: '10s',
      retention: '7d',
      corsOrigins: ['https://a', 'https://b'],
    });
    const resolved = resolveConfig(
      { config, port: '3000' },
      { LONGRUN_PORT: '2000', LONGRUN_HOST: '127.0.0.3', LONGRUN_CANCEL_GRACE: '500ms' },
    );
    expect(resolved).toMatchObject({
      port: 3000,
      host: '127.0.0.3',
      waitMaxMs: 10_000,
      cancelGracePeriodMs: 500,
      retentionMs: 7 * 86_400_000,
      corsOrigins: ['https://a', 'https://b'],
      store: DEFAULT_CONFIG.store,
    });
  });

  it('finds the file through LONGRUN_CONFIG and reads auth from it', () => {
    const auth = {
      principals: [{ name: 'a', secrets: ['sha256:' + '0'.repeat(64)], grants: [{ role: 'admin', resources: '**' }] }],
    };
    expect(resolveConfig({}, { LONGRUN_CONFIG: file({ auth }) }).auth).toEqual(auth);
  });

  it('names the setting that does not parse', () => {
    expect(() => resolveConfig({ port: 'x' }, {})).toThrow(
      new ConfigError('--port: "x" is not an integer from 0 to 65535'),
    );
    expect(() => resolveConfig({}, { LONGRUN_RETENTION: 'forever' })).toThrow(/LONGRUN_RETENTION/);
    expect(() => resolveConfig({ config: file({ colour: 'blue' }) }, {})).toThrow(/"colour" is not a setting/);
    expect(() => resolveConfig({ config: file('{oops') }, {})).toThrow(ConfigError);
    expect(() => resolveConfig({ config: join(dir, 'missing.json') }, {})).toThrow(ConfigError);
    expect(() => resolveConfig({ insecure: 'maybe' }, {})).toThrow(/--insecure/);
  });
});
