/**
 * The DB cluster of a run, driven through the agents: the controller never talks to a database itself. Each
 * node's module sets up, starts and answers readiness for its own member.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { NodePreconditionError } from './errors';
import type { AgentClient, DbActionName } from './rpc/agent-client';
import type { RunStore } from './store';

/** Runs one DB lifecycle action on every node at once; fails with the first node's error. */
async function onAll(clients: AgentClient[], action: DbActionName, db: string, timeoutMs: number, extra = {}): Promise<void> {
  await Promise.all(clients.map((c) => c.db(action, db, timeoutMs, extra)));
}

/** Refuses to go on when any node lacks the DB binary, naming the node and what to install. */
export async function checkInstalled(clients: AgentClient[], db: string): Promise<void> {
  const answers = await Promise.all(clients.map(async (c) => ({ node: c.node.name, res: await c.db('check', db, 10_000) })));
  const missing = answers.find((a) => !a.res.ok);
  if (missing) throw new NodePreconditionError(`Cannot run on node "${missing.node}": ${missing.res.message}`);
}

/**
 * Sets up and starts a fresh cluster on all nodes (with the module's options) and waits until every node's module
 * says its member is ready.
 */
export async function startCluster(clients: AgentClient[], db: string, runId: string, options: Record<string, string>, readyTimeoutMs = 60_000): Promise<void> {
  const members = clients.map((c) => ({ node: c.node.name, address: c.node.address }));
  await onAll(clients, 'setup', db, 30_000, { members, clusterToken: `faultline-${runId}`, options });
  await onAll(clients, 'start', db, 30_000);
  const deadline = Date.now() + readyTimeoutMs;
  const pending = new Map(clients.map((c) => [c.node.name, c]));
  let why = '';
  while (pending.size > 0) {
    const answers = await Promise.all([...pending.values()].map(async (c) => ({ c, res: await c.db('ready', db, 10_000).catch((err: Error) => ({ ready: false, message: err.message })) })));
    for (const { c, res } of answers) {
      if (res.ready) pending.delete(c.node.name);
      else why = `${c.node.name}: ${res.message}`;
    }
    if (pending.size === 0) return;
    if (Date.now() > deadline) throw new NodePreconditionError(`Cannot start the ${db} cluster: not ready after ${readyTimeoutMs} ms (${why})`);
    await sleep(250);
  }
}

/** Copies each node's DB log into the store, then tears the cluster down. Never throws: it is cleanup. */
export async function collectAndTeardown(clients: AgentClient[], db: string, store: RunStore | undefined, onError: (node: string, err: unknown) => void): Promise<void> {
  await Promise.all(
    clients.map(async (c) => {
      try {
        if (store) {
          const res = await c.db('logs', db, 15_000, { maxLogBytes: 16 << 20 });
          store.writeNodeFile(c.node.name, `${db}.log`, res.logs);
        }
      } catch (err) {
        onError(c.node.name, err);
      }
      try {
        await c.db('teardown', db, 30_000);
      } catch (err) {
        onError(c.node.name, err);
      }
    }),
  );
}
