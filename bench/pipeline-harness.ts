/**
 * Drives synthetic agents (bench/pipeline-agent.ts, the agent's real publisher in its own process) into a real
 * HistoryCollector, for `npm run bench:pipeline` and the pipeline tests; then verifies the raw events file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { HistoryCollector } from '../controller/history-collector';

const AGENT_MAIN = join(__dirname, 'pipeline-agent.js');

export interface SyntheticAgentResult {
  node: string;
  lastSeq: number;
  unwritten: number;
  publishMs: number;
  confirmMs: number;
}

export interface SyntheticAgent {
  node: string;
  child: ChildProcess;
  ready: Promise<void>;
  go(): void;
  /** The agent's closing line; rejects if it exits without one. */
  result: Promise<SyntheticAgentResult>;
  exited: Promise<number | null>;
  output(): string;
}

export function spawnSyntheticAgent(opts: {
  natsUrl: string;
  node: string;
  runId: string;
  events: number;
  spoolDir: string;
  ratePerS?: number;
}): SyntheticAgent {
  const args = [AGENT_MAIN, '--nats', opts.natsUrl, '--node', opts.node, '--run', opts.runId, '--events', String(opts.events), '--spool', opts.spoolDir];
  if (opts.ratePerS) args.push('--rate', String(opts.ratePerS));
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<SyntheticAgentResult>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line === 'ready') onReady();
      else if (line.startsWith('{')) resolve(JSON.parse(line) as SyntheticAgentResult);
    });
    void exited.then((code) => reject(new Error(`synthetic agent ${opts.node} exited (${code}) without a result:\n${err}`)));
  });
  result.catch(() => undefined); // a killed agent has no result; callers that await it see the rejection
  void exited.then(() => onReady());
  return {
    node: opts.node,
    child,
    ready,
    go: () => child.stdin!.write('go\n'),
    result,
    exited,
    output: () => err,
  };
}

/** Stops an agent: SIGTERM, SIGKILL after `graceMs`. */
export async function stopSyntheticAgent(a: SyntheticAgent, graceMs = 5000): Promise<void> {
  if (a.child.exitCode !== null || a.child.signalCode !== null) return;
  a.child.kill('SIGTERM');
  const timer = setTimeout(() => a.child.kill('SIGKILL'), graceMs);
  await a.exited;
  clearTimeout(timer);
}

/**
 * Samples the collector's progress every `everyMs` until stopped: when all `expected` events had arrived, and the
 * longest time nothing arrived while some were still missing (a stall, e.g. a NATS leader election).
 */
export function watchProgress(collector: HistoryCollector, everyMs = 10): {
  stop(): void;
  completeAt(total: number): number | undefined;
  longestStallMs(): number;
} {
  const samples: { at: number; received: number }[] = [];
  let lastChange = Date.now();
  let last = -1;
  let longest = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    if (collector.received !== last) {
      if (last > 0) longest = Math.max(longest, now - lastChange); // from the first event on
      lastChange = now;
      last = collector.received;
      samples.push({ at: now, received: last });
    }
  }, everyMs);
  return {
    stop: () => clearInterval(timer),
    completeAt: (total) => samples.find((s) => s.received >= total)?.at,
    longestStallMs: () => longest,
  };
}

export interface RawFileCheck {
  events: number;
  duplicates: number;
  /** Sequence numbers from 1 to each node's last that are not in the file. */
  lost: number;
  /** Missing ranges. */
  gaps: number;
}

/** Reads the raw events file back and counts, per node, what of 1..last is missing or doubled. */
export async function checkRawFile(path: string, last: Record<string, number>): Promise<RawFileCheck> {
  const seen = new Map<string, Uint8Array>();
  for (const [node, n] of Object.entries(last)) seen.set(node, new Uint8Array(n + 1));
  let events = 0;
  let duplicates = 0;
  for await (const line of createInterface({ input: createReadStream(path) })) {
    if (line.length === 0) continue;
    const ev = JSON.parse(line) as { node: string; seq: string };
    events++;
    const marks = seen.get(ev.node);
    const seq = Number(ev.seq);
    if (!marks || seq >= marks.length) continue;
    if (marks[seq]) duplicates++;
    marks[seq] = 1;
  }
  let lost = 0;
  let gaps = 0;
  for (const marks of seen.values()) {
    for (let s = 1; s < marks.length; s++) {
      if (marks[s]) continue;
      lost++;
      if (s === 1 || marks[s - 1]) gaps++;
    }
  }
  return { events, duplicates, lost, gaps };
}
