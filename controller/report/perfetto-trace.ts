/**
 * Exports a run's operations as a Chrome trace-event JSON file, which Perfetto (ui.perfetto.dev) and
 * chrome://tracing open: one track per client process, grouped by node, and one per fault kind. For runs too big
 * to browse comfortably in a page. Written as a stream: memory does not grow with the trace.
 */
import { createWriteStream } from 'node:fs';
import { OUTCOME, type ReportData } from './report-data';

const OUTCOME_NAME = ['ok', 'fail', 'info', 'open'] as const;
/** Chrome's reserved colour names, by outcome. */
const CNAME = ['good', 'bad', 'yellow', 'grey'] as const;

/** Writes the trace and resolves with the number of trace events written. */
export async function writePerfettoTrace(data: ReportData, path: string): Promise<number> {
  const out = createWriteStream(path);
  const done = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
  });
  let buf = '{"displayTimeUnit":"ms","traceEvents":[\n';
  let n = 0;
  const emit = async (ev: Record<string, unknown>): Promise<void> => {
    buf += `${n++ === 0 ? '' : ',\n'}${JSON.stringify(ev)}`;
    if (buf.length > 1 << 20) {
      const chunk = buf;
      buf = '';
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  };
  const { columns: c, tables: t, meta } = data;
  // pid 1: the nemesis; pid 2..: one per node.
  await emit({ ph: 'M', name: 'process_name', pid: 1, tid: 0, args: { name: 'nemesis' } });
  for (const [i, name] of t.nodes.entries()) await emit({ ph: 'M', name: 'process_name', pid: i + 2, tid: 0, args: { name: `node ${name}` } });
  const kinds = [...new Set(meta.faults.map((f) => f.kind))];
  for (const [i, kind] of kinds.entries()) await emit({ ph: 'M', name: 'thread_name', pid: 1, tid: i + 1, args: { name: kind } });
  for (const f of meta.faults) {
    await emit({
      ph: 'X', name: `${f.kind}${f.nodes.length ? ` ${f.nodes.join(',')}` : ''}`, cat: 'fault', pid: 1, tid: kinds.indexOf(f.kind) + 1,
      ts: f.startMs * 1000, dur: Math.max(0, f.endMs - f.startMs) * 1000, args: { description: f.description, nodes: f.nodes, healed: !f.open },
    });
  }
  for (let i = 0; i < c.count; i++) {
    const type = c.type[i]!;
    const args: Record<string, unknown> = { index: c.index[i], outcome: OUTCOME_NAME[type], value: t.values[i] };
    if (c.key[i]) args['key'] = t.keys[c.key[i]!];
    if (c.err[i]) args['error'] = t.errors[c.err[i]!];
    if (!c.checked[i]) args['checked'] = false;
    await emit({
      ph: 'X', name: `${t.fs[c.f[i]!]} ${OUTCOME_NAME[type]}`, cat: type === OUTCOME.ok ? 'ok' : OUTCOME_NAME[type], cname: CNAME[type],
      pid: c.node[i]! + 2, tid: c.process[i]!, ts: c.start[i]! * 1000, dur: Math.max(0, c.dur[i]!) * 1000, args,
    });
  }
  out.end(`${buf}\n]}\n`);
  await done;
  return n;
}
