import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNodesFile } from './nodes-file';

function file(t: { after(fn: () => void): void }, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nodes-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'nodes.yaml'), text);
  return join(dir, 'nodes.yaml');
}

test('readNodesFile() reads nodes, agent ports, certificate paths relative to the file, and NATS credentials', (t) => {
  const path = file(
    t,
    'nodes:\n  - { name: n1, address: 10.0.0.11 }\n  - { name: n2, address: 10.0.0.12, agentPort: 7800, settings: { rack: a } }\n' +
      'tls: { ca: certs/ca.crt, cert: certs/controller.crt, key: /etc/fl/controller.key }\n' +
      'nats: { url: "nats://10.0.0.1:4222", user: controller, passwordFile: nats.pw }\n',
  );
  const fleet = readNodesFile(path);
  const dir = join(path, '..');
  assert.deepEqual(fleet.nodes, [
    { name: 'n1', address: '10.0.0.11', agent: '10.0.0.11:7701' },
    { name: 'n2', address: '10.0.0.12', agent: '10.0.0.12:7800', settings: { rack: 'a' } },
  ]);
  assert.equal(fleet.natsUrl, 'nats://10.0.0.1:4222');
  assert.deepEqual(fleet.access.security, { kind: 'mtls', tls: { caFile: join(dir, 'certs/ca.crt'), certFile: join(dir, 'certs/controller.crt'), keyFile: '/etc/fl/controller.key' } });
  assert.deepEqual(fleet.access.nats, { user: 'controller', passwordFile: join(dir, 'nats.pw') });
});

test('readNodesFile() refuses a fleet without certificates (unless insecure), duplicate names and unknown keys', (t) => {
  const nats = 'nats: { url: "nats://10.0.0.1:4222" }\n';
  assert.throws(() => readNodesFile(file(t, `nodes: [{ name: n1, address: 10.0.0.11 }]\n${nats}`)), /give tls \(ca, cert, key\) or insecure: true/);
  assert.equal(readNodesFile(file(t, `nodes: [{ name: n1, address: 10.0.0.11 }]\ninsecure: true\n${nats}`)).access.security.kind, 'insecure');
  assert.throws(() => readNodesFile(file(t, `nodes: [{ name: n1, address: 10.0.0.11 }, { name: n1, address: 10.0.0.12 }]\ninsecure: true\n${nats}`)), /"n1" appears twice/);
  assert.throws(() => readNodesFile(file(t, `nodes: [{ name: n1, address: 10.0.0.11, port: 1 }]\ninsecure: true\n${nats}`)), /nodes\.0/);
  assert.throws(() => readNodesFile(file(t, `nodes: [{ name: "n1;x", address: 10.0.0.11 }]\ninsecure: true\n${nats}`)), /nodes\.0\.name/);
});
