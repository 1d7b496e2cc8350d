import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import { setTimeout as sleep } from 'node:timers/promises';
import { DbAction } from '../proto/gen/agent';
import { NodePreconditionError } from './errors';
import type { AgentClient } from './rpc/agent-client';
import type { RunStore } from './store';

/** Runs one DB lifecycle action on every node at once; fails with the first node's error. */
async function onAll(clients: AgentClient[], action: DbAction, db: string, timeoutMs: number, extra = {}): Promise<void> {
  await Promise.all(clients.map((c) => c.db(action, db, timeoutMs, extra)));
}

/** Refuses to go on when any node lacks the DB binary, naming the node and what to install. */
export async function checkInstalled(clients: AgentClient[], db: string): Promise<void> {
  const answers = await Promise.all(clients.map(async (c) => ({ node: c.node.name, res: await c.db(DbAction.CHECK, db, 10_000) })));
  const missing = answers.find((a) => !a.res.ok);
  if (missing) throw new NodePreconditionError(`Cannot run on node "${missing.node}": ${missing.res.message}`);
}

/** Sets up and starts a fresh cluster on all nodes and waits until it serves a linearizable write and read. */
export async function startCluster(clients: AgentClient[], db: string, runId: string, readyTimeoutMs = 60_000): Promise<void> {
  const members = clients.map((c) => ({ node: c.node.name, address: c.node.address }));
  await onAll(clients, DbAction.SETUP, db, 30_000, { members, clusterToken: `faultline-${runId}` });
  await onAll(clients, DbAction.START, db, 30_000);
  const etcd = new Etcd3({
    hosts: members.map((m) => `http://${m.address}:2379`),
    faultHandling: { host: () => noop, global: noop },
  });
  try {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      try {
        await etcd.put('faultline-ready').value(runId).options({ deadline: Date.now() + 2000 }).exec();
        if ((await etcd.get('faultline-ready').options({ deadline: Date.now() + 2000 }).string()) === runId) return;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new NodePreconditionError(`Cannot start the ${db} cluster: not ready after ${readyTimeoutMs} ms (${(err as Error).message})`);
        }
      }
      await sleep(250);
    }
  } finally {
    etcd.close();
  }
}

/** Copies each node's DB log into the store, then tears the cluster down. Never throws: it is cleanup. */
export async function collectAndTeardown(clients: AgentClient[], db: string, store: RunStore | undefined, onError: (node: string, err: unknown) => void): Promise<void> {
  await Promise.all(
    clients.map(async (c) => {
      try {
        if (store) {
          const res = await c.db(DbAction.LOGS, db, 15_000, { maxLogBytes: 16 << 20 });
          store.writeNodeFile(c.node.name, `${db}.log`, res.logs);
        }
      } catch (err) {
        onError(c.node.name, err);
      }
      try {
        await c.db(DbAction.TEARDOWN, db, 30_000);
      } catch (err) {
        onError(c.node.name, err);
      }
    }),
  );
}
