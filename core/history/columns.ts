/**
 * A history held as columns: one typed array per field, every value on one tape, every string once in a table.
 * The readers of history.jsonl and Jepsen EDN write it straight from a file's bytes, and the linearizability
 * checker reads it without an `Op` object per event, so a million-event history costs a few typed arrays instead
 * of a million objects for the garbage collector to copy. `opAt` and `toOps` make the `Op`s the rest of faultline
 * reads, exactly as the op readers make them (same fields, same shapes). Pure: no I/O.
 *
 * An event's index is its position. Absent optional fields are NaN (numbers) or -1 (strings).
 */
import { newOp } from './op-shape';
import type { Op, OpType } from './operation';

/** Event types, as the `type` column holds them. */
export const T_INVOKE = 0;
export const T_OK = 1;
export const T_FAIL = 2;
export const T_INFO = 3;
export const TYPE_NAMES: readonly OpType[] = ['invoke', 'ok', 'fail', 'info'];

/**
 * Value tape tags. A value is one cell, or for an array, one cell holding its length followed by its elements,
 * each a whole value. `V_JS` holds any other JavaScript value (a map, a set read as an array with odd members,
 * an opaque tagged literal) as the reader made it, in `objects`.
 */
export const V_NULL = 0;
export const V_FALSE = 1;
export const V_TRUE = 2;
export const V_NUM = 3;
export const V_STR = 4;
export const V_ARR = 5;
export const V_JS = 6;

const INITIAL = 1 << 12;

/** Strings by content, each once: ids are positions in `strings`. Bytes and JS strings hash alike (ASCII). */
export class StringTable {
  readonly strings: string[] = [];
  #slots = new Int32Array(1 << 12).fill(-1);
  #hashes = new Int32Array(1 << 12);

  /** The id of the string of ASCII bytes `b[from..to)`, whose hash (`imul(h, 31) + byte`, in order) is `h`. */
  idOfAscii(b: Uint8Array, from: number, to: number, h: number): number {
    const mask = this.#slots.length - 1;
    const n = to - from;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.#slots[slot]!;
      if (id < 0) return this.#add(slot, h, latin1(b, from, to));
      if (this.#hashes[slot] === h) {
        const s = this.strings[id]!;
        if (s.length === n) {
          let i = 0;
          while (i < n && s.charCodeAt(i) === b[from + i]) i++;
          if (i === n) return id;
        }
      }
    }
  }

  /** The id of `s`. */
  idOf(s: string): number {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
    const mask = this.#slots.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.#slots[slot]!;
      if (id < 0) return this.#add(slot, h, s);
      if (this.#hashes[slot] === h && this.strings[id] === s) return id;
    }
  }

  #add(slot: number, h: number, s: string): number {
    const id = this.strings.length;
    this.strings.push(s);
    this.#slots[slot] = id;
    this.#hashes[slot] = h;
    if (this.strings.length * 2 > this.#slots.length) this.#rehash();
    return id;
  }

  #rehash(): void {
    const old = this.#slots;
    const oldHashes = this.#hashes;
    this.#slots = new Int32Array(old.length * 2).fill(-1);
    this.#hashes = new Int32Array(old.length * 2);
    const mask = this.#slots.length - 1;
    for (let i = 0; i < old.length; i++) {
      const id = old[i]!;
      if (id < 0) continue;
      let slot = oldHashes[i]! & mask;
      while (this.#slots[slot]! >= 0) slot = (slot + 1) & mask;
      this.#slots[slot] = id;
      this.#hashes[slot] = oldHashes[i]!;
    }
  }
}

function latin1(b: Uint8Array, from: number, to: number): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1', from, to);
}

/**
 * The columns. A reader appends events with `add` (then writes the event's fields at the index it got) and values
 * with the tape methods; a finished history is read with the accessors. Arrays are longer than `length`.
 */
export class HistoryColumns {
  length = 0;
  type: Uint8Array;
  /** NaN: the nemesis. */
  process: Float64Array;
  /** String ids. */
  f: Int32Array;
  key: Int32Array;
  /** Position of the event's value on the tape. */
  value: Int32Array;
  time: Float64Array;
  /**
   * Fields many histories never carry (Jepsen's have none of them): made when the first event carries one, so a
   * history without them neither holds nor writes them. Read them with uncertaintyAt, seqAt and nodeAt.
   */
  uncertainty: Float64Array | undefined;
  seq: Float64Array | undefined;
  node: Int32Array | undefined;
  /** 1-based source line. */
  line: Int32Array;
  /** Errors by event index (few events carry one). */
  readonly errors = new Map<number, string>();
  readonly strings = new StringTable();

  tapeLength = 0;
  tags: Uint8Array;
  /** A number's value, a string's id, an array's length, an object's position in `objects`. */
  nums: Float64Array;
  readonly objects: unknown[] = [];

  /** `expected`: about how many events will be added (a reader's guess from the file's size), to size the arrays once. */
  constructor(expected = INITIAL) {
    const n = Math.max(16, Math.min(expected, 1 << 24)); // past 16 M events, grown as needed
    this.type = new Uint8Array(n);
    this.process = new Float64Array(n);
    this.f = new Int32Array(n);
    this.key = new Int32Array(n);
    this.value = new Int32Array(n);
    this.time = new Float64Array(n);
    this.line = new Int32Array(n);
    this.tags = new Uint8Array(n * 4);
    this.nums = new Float64Array(n * 4);
  }

  /** Appends an event with every optional field absent and its value not yet written; returns its index. */
  add(type: number, process: number, f: number, line: number): number {
    const i = this.length;
    if (i === this.type.length) this.#grow();
    this.type[i] = type;
    this.process[i] = process;
    this.f[i] = f;
    this.line[i] = line;
    this.key[i] = -1;
    this.value[i] = this.tapeLength;
    this.time[i] = NaN;
    this.length = i + 1;
    return i;
  }

  /** Event `i`'s uncertainty, or NaN. */
  uncertaintyAt(i: number): number {
    return this.uncertainty === undefined ? NaN : this.uncertainty[i]!;
  }

  seqAt(i: number): number {
    return this.seq === undefined ? NaN : this.seq[i]!;
  }

  /** Event `i`'s node's string id, or -1. */
  nodeAt(i: number): number {
    return this.node === undefined ? -1 : this.node[i]!;
  }

  setUncertainty(i: number, v: number): void {
    (this.uncertainty ??= new Float64Array(this.type.length).fill(NaN))[i] = v;
  }

  setSeq(i: number, v: number): void {
    (this.seq ??= new Float64Array(this.type.length).fill(NaN))[i] = v;
  }

  setNode(i: number, id: number): void {
    (this.node ??= new Int32Array(this.type.length).fill(-1))[i] = id;
  }

  /** Drops the events from `length` on (and the tape after the first dropped value), as a reader backing out of a line. */
  truncate(length: number): void {
    if (length >= this.length) return;
    this.tapeLength = this.value[length]!;
    for (const i of this.errors.keys()) if (i >= length) this.errors.delete(i);
    // add() does not write the optional columns: what the dropped events held there must read as absent again.
    this.uncertainty?.fill(NaN, length, this.length);
    this.seq?.fill(NaN, length, this.length);
    this.node?.fill(-1, length, this.length);
    this.length = length;
  }

  /** Makes room for `cells` more tape cells. */
  reserveTape(cells: number): void {
    if (this.tapeLength + cells <= this.tags.length) return;
    let n = this.tags.length * 2;
    while (n < this.tapeLength + cells) n *= 2;
    const tags = new Uint8Array(n);
    tags.set(this.tags.subarray(0, this.tapeLength));
    const nums = new Float64Array(n);
    nums.set(this.nums.subarray(0, this.tapeLength));
    this.tags = tags;
    this.nums = nums;
  }

  /** Appends one cell (after reserveTape); returns its position. */
  cell(tag: number, num: number): number {
    const at = this.tapeLength++;
    this.tags[at] = tag;
    this.nums[at] = num;
    return at;
  }

  /** Appends a JavaScript value, encoded where the tape has a tag for it. */
  pushValue(v: unknown, depth = 0): void {
    this.reserveTape(1);
    if (v === null || v === undefined) this.cell(V_NULL, 0);
    else if (v === false) this.cell(V_FALSE, 0);
    else if (v === true) this.cell(V_TRUE, 0);
    else if (typeof v === 'number') this.cell(V_NUM, v);
    else if (typeof v === 'string') this.cell(V_STR, this.strings.idOf(v));
    else if (Array.isArray(v) && depth < 64 && isPlainArray(v)) {
      this.cell(V_ARR, v.length);
      for (const x of v) this.pushValue(x, depth + 1);
    } else {
      this.cell(V_JS, this.objects.length);
      this.objects.push(v);
    }
  }

  /** Appends `op` (from a reader's slow path, or an in-memory history); its index becomes its position. */
  pushOp(op: Op): number {
    const i = this.add(TYPE_NAMES.indexOf(op.type), op.process === 'nemesis' ? NaN : op.process, this.strings.idOf(op.f), op.line ?? 0);
    this.pushValue(op.value);
    if (op.key !== undefined) this.key[i] = this.strings.idOf(op.key);
    if (op.time !== undefined) this.time[i] = op.time;
    if (op.uncertainty !== undefined) this.setUncertainty(i, op.uncertainty);
    if (op.seq !== undefined) this.setSeq(i, op.seq);
    if (op.node !== undefined) this.setNode(i, this.strings.idOf(op.node));
    if (op.error !== undefined) this.errors.set(i, op.error);
    return i;
  }

  /**
   * Puts the events in `order` (event `order[i]` becomes event i); values stay where they are on the tape.
   * Errors move with their events.
   */
  reorder(order: ArrayLike<number>): void {
    const n = this.length;
    const move = <A extends Uint8Array | Int32Array | Float64Array>(a: A): void => {
      const copy = a.slice(0, n);
      for (let i = 0; i < n; i++) a[i] = copy[order[i]!]!;
    };
    move(this.type);
    move(this.process);
    move(this.f);
    move(this.key);
    move(this.value);
    move(this.time);
    move(this.line);
    if (this.uncertainty !== undefined) move(this.uncertainty);
    if (this.seq !== undefined) move(this.seq);
    if (this.node !== undefined) move(this.node);
    if (this.indices !== undefined) move(this.indices);
    if (this.errors.size > 0) {
      const old = new Map(this.errors);
      this.errors.clear();
      for (let i = 0; i < n; i++) {
        const e = old.get(order[i]!);
        if (e !== undefined) this.errors.set(i, e);
      }
    }
  }

  /**
   * Events' own indices, where some differ from their positions (an in-memory history put in columns); undefined
   * when every index is its position, as in every history read from a file.
   */
  indices: Float64Array | undefined;

  /** The index of event `i`. */
  indexOf(i: number): number {
    return this.indices === undefined ? i : this.indices[i]!;
  }

  static fromOps(ops: readonly Op[]): HistoryColumns {
    const c = new HistoryColumns(ops.length);
    let own = false;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      c.pushOp(op);
      if (op.index !== i) own = true;
    }
    if (own) c.indices = Float64Array.from(ops, (o) => o.index);
    return c;
  }

  #grow(): void {
    const n = this.type.length * 2;
    const g = <A extends Uint8Array | Int32Array | Float64Array>(a: A, make: (n: number) => A): A => {
      const b = make(n);
      b.set(a as never);
      return b;
    };
    this.type = g(this.type, (k) => new Uint8Array(k));
    this.process = g(this.process, (k) => new Float64Array(k));
    this.f = g(this.f, (k) => new Int32Array(k));
    this.key = g(this.key, (k) => new Int32Array(k));
    this.value = g(this.value, (k) => new Int32Array(k));
    this.time = g(this.time, (k) => new Float64Array(k));
    // Room past the events of an optional column reads as absent.
    if (this.uncertainty !== undefined) this.uncertainty = g(this.uncertainty, (k) => new Float64Array(k).fill(NaN));
    if (this.seq !== undefined) this.seq = g(this.seq, (k) => new Float64Array(k).fill(NaN));
    if (this.node !== undefined) this.node = g(this.node, (k) => new Int32Array(k).fill(-1));
    this.line = g(this.line, (k) => new Int32Array(k));
  }

  // ---- reading ----

  string(id: number): string {
    return this.strings.strings[id]!;
  }

  /** The value that starts at tape position `at`. */
  valueAt(at: number): unknown {
    const tag = this.tags[at]!;
    switch (tag) {
      case V_NULL:
        return null;
      case V_FALSE:
        return false;
      case V_TRUE:
        return true;
      case V_NUM:
        return this.nums[at]!;
      case V_STR:
        return this.strings.strings[this.nums[at]!]!;
      case V_ARR: {
        const n = this.nums[at]!;
        const out = new Array<unknown>(n);
        let p = at + 1;
        for (let k = 0; k < n; k++) {
          out[k] = this.valueAt(p);
          p = this.skip(p);
        }
        return out;
      }
      default:
        return this.objects[this.nums[at]!];
    }
  }

  /** The tape position after the value that starts at `at`. */
  skip(at: number): number {
    if (this.tags[at] !== V_ARR) return at + 1;
    const n = this.nums[at]!;
    let p = at + 1;
    for (let k = 0; k < n; k++) p = this.skip(p);
    return p;
  }

  /** The event's value. */
  valueOf(i: number): unknown {
    return this.valueAt(this.value[i]!);
  }

  /** Event `i` as an Op, as the op readers make it. */
  opAt(i: number): Op {
    const p = this.process[i]!;
    const op = newOp(this.indexOf(i), TYPE_NAMES[this.type[i]!]!, Number.isNaN(p) ? 'nemesis' : p, this.strings.strings[this.f[i]!]!, this.valueOf(i), this.line[i]!);
    const key = this.key[i]!;
    if (key >= 0) op.key = this.strings.strings[key]!;
    const time = this.time[i]!;
    if (!Number.isNaN(time)) op.time = time;
    const u = this.uncertaintyAt(i);
    if (!Number.isNaN(u)) op.uncertainty = u;
    const seq = this.seqAt(i);
    if (!Number.isNaN(seq)) op.seq = seq;
    const node = this.nodeAt(i);
    if (node >= 0) op.node = this.strings.strings[node]!;
    const error = this.errors.get(i);
    if (error !== undefined) op.error = error;
    return op;
  }

  toOps(): Op[] {
    const ops = new Array<Op>(this.length);
    for (let i = 0; i < this.length; i++) ops[i] = this.opAt(i);
    return ops;
  }
}

/** An array the tape can hold as one: dense, no extra own properties. */
function isPlainArray(v: unknown[]): boolean {
  return Object.getPrototypeOf(v) === Array.prototype && Object.keys(v).length === v.length;
}
