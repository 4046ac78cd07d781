/**
 * The TypeScript in packages/server/src/grpc/gen is generated from packages/server/proto and kept
 * in the source tree (so a clean clone builds offline with `tsc -b`). This fails when a .proto
 * changed and `npm run generate -w @longrun/server` was not run: every file's descriptor, as buf
 * compiles it, must equal the one embedded in the generated code.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { equals, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { expect, it } from 'vitest';
import { TypeRegistry } from '../../packages/server/src/grpc/type-registry.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

it('matches the .proto files it was generated from', () => {
  const dir = mkdtempSync(join(tmpdir(), 'longrun-protos-'));
  const out = join(dir, 'protos.binpb');
  execFileSync(join(REPO, 'node_modules', '.bin', 'buf'), [
    'build',
    join(REPO, 'packages', 'server', 'proto'),
    '--exclude-source-info',
    '-o',
    out,
  ]);
  const compiled = fromBinary(FileDescriptorSetSchema, readFileSync(out)).file;
  rmSync(dir, { recursive: true, force: true });
  const builtIn = new TypeRegistry().files;
  const ours = compiled.filter((file) => !file.name.startsWith('google/protobuf/'));
  expect(ours.map((file) => file.name)).toContain('longrun/v1/provider.proto');
  for (const file of ours) {
    const generated = builtIn.get(file.name);
    expect(generated, `${file.name} has no generated code`).toBeDefined();
    expect(
      equals(FileDescriptorProtoSchema, file, generated!.proto),
      `${file.name} changed since it was generated`,
    ).toBe(true);
  }
});
