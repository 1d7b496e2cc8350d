import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const root = resolve(__dirname, '../../..');

test('committed proto/gen matches what `npm run proto` generates from proto/*.proto', (t) => {
  const out = mkdtempSync(join(tmpdir(), 'faultline-proto-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  execFileSync('bash', [join(root, 'scripts/gen-proto.sh'), out], { cwd: root, stdio: 'pipe' });
  const fresh = readdirSync(out).sort();
  const committed = readdirSync(join(root, 'proto/gen')).sort();
  assert.deepEqual(committed, fresh, 'proto/gen has different files: run `npm run proto` and commit');
  for (const f of fresh) {
    assert.equal(
      readFileSync(join(root, 'proto/gen', f), 'utf8'),
      readFileSync(join(out, f), 'utf8'),
      `proto/gen/${f} is stale: run \`npm run proto\` and commit`,
    );
  }
});
