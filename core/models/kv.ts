/**
 * Key-value models: `kv` (Porcupine's `kvModel`, one key at a time: get / put / append on strings)
 * and `multi-register` (Knossos's `MultiRegister`: atomic txns of read/write micro-ops).
 */
import { HistoryFormatError } from '../errors';
import type { PairedOp } from '../history/operation';
import { describeKey, valueKey, type Model, type SearchOp, type StateKey } from './model';

function asText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * One key of a key-value store; the search splits histories by key first (P-compositionality).
 * A missing key reads as `""` and a nil read means the key is absent, so it reads `""` too.
 * `read`/`write` are accepted as aliases of `get`/`put`. Failed ops did not happen; unknown gets are dropped.
 *
 * States are node ids in a trie of (put value, appended values...), so the search never hashes long
 * strings: equal strings reached by different paths get different ids, which only costs memoisation
 * hits, never soundness. Each node's string is built once, for `get` to compare against.
 */
export function kvModel(init: unknown = ''): Model<number> {
  const text: string[] = [];
  const roots = new Map<string, number>();
  const argIds = new Map<string, number>();
  const children: Map<number, number>[] = []; // per appended value's id: parent node -> child node
  const root = (s: string): number => {
    let id = roots.get(s);
    if (id === undefined) {
      id = text.length;
      text.push(s);
      roots.set(s, id);
    }
    return id;
  };
  const initial = asText(init);
  return {
    name: 'kv',
    init: () => root(initial),
    key: (s) => s,
    denseKeys: true,
    describe: (s) => JSON.stringify(text[s]),
    isReadOnly: (op) => op.f === 'get',
    prepare(op: PairedOp): SearchOp | null {
      const f = op.f === 'read' ? 'get' : op.f === 'write' ? 'put' : op.f;
      if (f !== 'get' && f !== 'put' && f !== 'append') {
        throw new HistoryFormatError(`the kv model has no operation "${op.f}" (expected get, put, append)`);
      }
      if (op.type === 'fail') return null;
      if (f === 'get') return op.type === 'ok' ? { f, arg: null, out: asText(op.value), known: true, failed: false } : null;
      return { f, arg: asText(op.invokeValue), out: null, known: op.type === 'ok', failed: false };
    },
    step(state: number, op: SearchOp): number | undefined {
      if (op.f === 'get') return op.out === text[state] ? state : undefined;
      const arg = op.arg as string;
      if (op.f === 'put') return root(arg);
      let a = argIds.get(arg);
      if (a === undefined) {
        argIds.set(arg, (a = argIds.size));
        children.push(new Map());
      }
      const edges = children[a]!;
      let child = edges.get(state);
      if (child === undefined) {
        child = text.length;
        text.push(text[state]! + arg);
        edges.set(state, child);
      }
      return child;
    },
  };
}

type Micro = ['read' | 'write', string, StateKey];

function parseTxn(v: unknown): Micro[] {
  if (!Array.isArray(v)) throw new HistoryFormatError(`txn value must be a list of [f k v] micro-ops, got ${JSON.stringify(v)}`);
  return v.map((m) => {
    if (!Array.isArray(m) || m.length !== 3 || (m[0] !== 'read' && m[0] !== 'write' && m[0] !== 'r' && m[0] !== 'w')) {
      throw new HistoryFormatError(`txn micro-op must be [read|write key value], got ${JSON.stringify(m)}`);
    }
    return [m[0] === 'r' || m[0] === 'read' ? 'read' : 'write', String(m[1]), valueKey(m[2])] as Micro;
  });
}

/**
 * Several registers updated by atomic transactions. A read micro-op of nil constrains nothing.
 * A register missing from `init` has an unknown initial value: the first read fixes it. That is
 * more permissive than any fixed initial value, so it can never invent an anomaly.
 */
export function multiRegisterModel(init: Record<string, unknown> = {}): Model<string> {
  const parsed = new Map<string, Record<string, StateKey>>();
  const encode = (o: Record<string, StateKey>): string => {
    const keys = Object.keys(o).sort();
    return JSON.stringify(keys.map((k) => [k, o[k]]));
  };
  const decode = (s: string): Record<string, StateKey> => {
    let o = parsed.get(s);
    if (o === undefined) {
      o = Object.fromEntries(JSON.parse(s) as [string, StateKey][]) as Record<string, StateKey>;
      parsed.set(s, o);
    }
    return o;
  };
  const initial: Record<string, StateKey> = {};
  for (const [k, v] of Object.entries(init)) initial[k] = valueKey(v);
  return {
    name: 'multi-register',
    init: () => encode(initial),
    key: (s) => s,
    describe: (s) => JSON.stringify(Object.fromEntries(Object.entries(decode(s)).map(([k, v]) => [k, JSON.parse(describeKey(v) ?? 'null') as unknown]))),
    isReadOnly: () => false,
    prepare(op: PairedOp): SearchOp | null {
      if (op.f !== 'txn') throw new HistoryFormatError(`the multi-register model has no operation "${op.f}" (expected txn)`);
      if (op.type === 'fail') return null;
      const micro = parseTxn(op.type === 'ok' ? op.value : op.invokeValue);
      // Unknown outcome: its reads saw nothing we know; keep only the writes.
      const kept = op.type === 'ok' ? micro.filter((m) => m[0] === 'write' || m[2] !== null) : micro.filter((m) => m[0] === 'write');
      if (kept.length === 0) return null;
      return { f: 'txn', arg: kept, out: null, known: op.type === 'ok', failed: false };
    },
    step(state: string, op: SearchOp): string | undefined {
      const cur = decode(state);
      let next: Record<string, StateKey> | undefined;
      for (const [f, k, v] of op.arg as Micro[]) {
        const have = (next ?? cur)[k];
        if (f === 'read') {
          if (have === undefined) (next ??= { ...cur })[k] = v; // unknown initial value: this read fixes it
          else if (have !== v) return undefined;
        } else if (have !== v) {
          (next ??= { ...cur })[k] = v;
        }
      }
      return next ? encode(next) : state;
    },
  };
}
