/**
 * Mutual TLS between the controller and an agent (issue 13, acceptance 1), with real agent processes and real
 * certificates made by `faultline certs`: the agent refuses a controller without a client certificate, with one
 * from another CA, with an expired one, or with one for another name; the controller refuses an agent whose
 * certificate comes from another CA or names another node; plaintext works only with --insecure on both sides,
 * and each insecure start warns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { certPair, caFiles, initCa, issueCertificate } from '../../controller/certs/cert-authority';
import { AgentClient } from '../../controller/rpc/agent-client';
import { INSECURE, type ControllerSecurity } from '../../controller/rpc/credentials';
import { AgentRequestError, AgentUnavailableError } from '../../controller/errors';
import { runCli, startAgent, startNats, tempDir } from '../support/processes';

function security(dir: string, name = 'controller'): ControllerSecurity {
  const pair = certPair(dir, name);
  return { kind: 'mtls', tls: { caFile: caFiles(dir).certFile, certFile: pair.certFile, keyFile: pair.keyFile } };
}

const node = (agent: string, name = 'n1') => ({ name, address: '127.0.0.1', agent });

async function refused(client: AgentClient): Promise<Error> {
  try {
    await client.hello(3000);
  } catch (err) {
    return err as Error;
  } finally {
    client.close();
  }
  assert.fail('the call was served');
}

test('agent and controller authenticate each other with certificates from one CA, and refuse everything else', { timeout: 120_000 }, async (t) => {
  const root = tempDir(t, 'mtls-');
  const ca = join(root, 'ca');
  const other = join(root, 'other-ca');
  const init = await runCli(['certs', 'init', '--dir', ca]);
  assert.equal(init.code, 0, init.stderr);
  for (const args of [['--node', 'n1', '--address', '127.0.0.1'], ['--node', 'n2', '--address', '127.0.0.1'], ['--controller']]) {
    const r = await runCli(['certs', 'issue', '--dir', ca, ...args]);
    assert.equal(r.code, 0, r.stderr);
  }
  for (const f of ['ca.crt', 'ca.key', 'n1.crt', 'n1.key', 'controller.crt', 'controller.key']) {
    assert.equal(statSync(join(ca, f)).mode & 0o777, 0o600, `${f} must be 0600`);
  }
  await initCa(other);
  await issueCertificate(other, { name: 'faultline-controller', usage: 'controller', out: certPair(other, 'controller') });
  await issueCertificate(other, { name: 'n1', addresses: ['127.0.0.1'], usage: 'agent' });
  await issueCertificate(ca, {
    name: 'faultline-controller',
    usage: 'controller',
    out: certPair(ca, 'expired'),
    validity: { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-02-01T00:00:00Z') },
  });

  const nats = await startNats(t);
  const agent = await startAgent(t, { node: 'n1', natsUrl: nats.url, tls: { ca: caFiles(ca).certFile, cert: certPair(ca, 'n1').certFile, key: certPair(ca, 'n1').keyFile } });

  // The right controller certificate: served.
  const good = new AgentClient(node(agent.address), security(ca));
  assert.equal((await good.hello()).node, 'n1');
  good.close();

  // No client certificate at all (TLS, trusting the CA): the handshake fails.
  const noCert = await new Promise<Error>((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port: Number(agent.address.split(':')[1]), ca: readFileSync(caFiles(ca).certFile), servername: 'n1', ALPNProtocols: ['h2'] });
    s.once('secureConnect', () => s.once('error', resolve).once('close', () => resolve(new Error('closed'))).write('PRI * HTTP/2.0\r\n\r\n'));
    s.once('error', resolve);
  });
  assert.ok(noCert instanceof Error);
  // Another CA, an expired certificate: refused in the handshake.
  assert.ok((await refused(new AgentClient(node(agent.address), security(other)))) instanceof AgentUnavailableError);
  assert.ok((await refused(new AgentClient(node(agent.address), security(ca, 'expired')))) instanceof AgentUnavailableError);
  // A valid certificate of this CA for another name (an agent's): refused by name, and logged with that name.
  const n2 = await refused(new AgentClient(node(agent.address), security(ca, 'n2')));
  assert.ok(n2 instanceof AgentRequestError, String(n2));
  assert.match(n2.message, /"n2" is not an allowed controller/);
  const deadline = Date.now() + 5000;
  while (!/"caller":"n2".*request refused/.test(agent.output()) && Date.now() < deadline) await sleep(50);
  assert.match(agent.output(), /"caller":"n2".*request refused/);
  // TLS 1.2 is refused.
  const tls12 = await new Promise<string>((resolve) => {
    const s = tlsConnect({
      host: '127.0.0.1',
      port: Number(agent.address.split(':')[1]),
      ca: readFileSync(caFiles(ca).certFile),
      cert: readFileSync(certPair(ca, 'controller').certFile),
      key: readFileSync(certPair(ca, 'controller').keyFile),
      servername: 'n1',
      maxVersion: 'TLSv1.2',
    });
    s.once('secureConnect', () => resolve(`connected with ${s.getProtocol()}`));
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  assert.doesNotMatch(tls12, /^connected/);
  // Plaintext controller against an mTLS agent: refused.
  assert.ok((await refused(new AgentClient(node(agent.address), INSECURE))) instanceof AgentUnavailableError);
  // The controller refuses an agent that presents the certificate of another node name.
  assert.match((await refused(new AgentClient(node(agent.address, 'n7'), security(ca)))).message, /Cannot reach agent "n7"/);

  // An agent with a certificate from another CA: the controller refuses it.
  const impostor = await startAgent(t, { node: 'n1', natsUrl: nats.url, tls: { ca: caFiles(ca).certFile, cert: certPair(other, 'n1').certFile, key: certPair(other, 'n1').keyFile } });
  assert.ok((await refused(new AgentClient(node(impostor.address), security(ca)))) instanceof AgentUnavailableError);

  // Plaintext only with --insecure on both sides; each insecure start warns.
  const plain = await startAgent(t, { node: 'n1', natsUrl: nats.url });
  assert.match(plain.output(), /WARNING: --insecure/);
  assert.ok((await refused(new AgentClient(node(plain.address), security(ca)))) instanceof AgentUnavailableError);
  const plainClient = new AgentClient(node(plain.address), INSECURE);
  assert.equal((await plainClient.hello()).node, 'n1');
  plainClient.close();
  const noFlags = await runCli(['agent', '--node', 'n1', '--listen', '127.0.0.1:1', '--nats', nats.url, '--data-dir', join(root, 'd')], { timeoutMs: 20_000 });
  assert.equal(noFlags.code, 254);
  assert.match(noFlags.stderr, /^faultline: Cannot start agent: no certificates given: pass --ca, --cert and --key .* or --insecure/);
  assert.equal(noFlags.stderr.trim().split('\n').length, 1);
});
