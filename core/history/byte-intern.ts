/**
 * Short ASCII strings read straight from a file's bytes, interned: the same keyword, key or micro-op name on a
 * million lines becomes one string, found by a hash of its bytes, so reading it allocates nothing and later Map
 * lookups and comparisons with literals reuse one hash and one pointer. Shared by the byte-level op-line readers.
 */

const SLOTS = 4096;
/** The longest string interned; longer ones are sliced each time. */
export const MAX_INTERNED_BYTES = 32;

const table: (string | undefined)[] = new Array<string | undefined>(SLOTS);

function hashOf(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

// The words every history repeats, as the literals the checkers compare with.
for (const k of ['type', 'f', 'value', 'process', 'time', 'index', 'key', 'error', 'node', 'invoke', 'ok', 'fail', 'info', 'nemesis', 'read', 'write', 'cas', 'txn', 'r', 'w', 'append', 'add', 'get', 'put', 'enqueue', 'dequeue', 'drain', 'acquire', 'release', 'transfer', 'generate', 'timed-out', 'start', 'stop', 'inc', 'delete']) {
  table[hashOf(k) & (SLOTS - 1)] ??= k;
}

/**
 * The string of bytes `b[from..to)`, all ASCII (the caller checked), with `h` their hash: `h = imul(h, 31) + byte`,
 * as a 32-bit integer, over the bytes in order.
 */
export function internAscii(b: Buffer, from: number, to: number, h: number): string {
  const slot = h & (SLOTS - 1);
  const cand = table[slot];
  const n = to - from;
  if (cand !== undefined && cand.length === n) {
    let i = 0;
    while (i < n && cand.charCodeAt(i) === b[from + i]) i++;
    if (i === n) return cand;
  }
  const s = b.toString('latin1', from, to);
  if (n <= MAX_INTERNED_BYTES) table[slot] = s;
  return s;
}
