/**
 * The fast path for our history.jsonl: one op object per line read straight from the file's bytes into an `Op`,
 * with no intermediate object, no string per line and no JSON.parse. It takes only the common shape (ASCII
 * strings without escapes, plain numbers, arrays and small objects as values, no repeated field) and answers
 * "not mine" (-1) for anything else, which the caller then reads with JSON.parse, so every line reads exactly as
 * JSON.parse and `jsonlOp` read it, errors included. Pure: bytes in, ops out.
 */
import { MAX_INTERNED_BYTES, internAscii } from './byte-intern';
import { jsonNumberEnd, isDigit, scannedNumber } from './op-bytes';
import { newOp } from './op-shape';
import type { Op, OpType, ProcessId } from './operation';

/** Returned by a value reader for input the fast path does not take. */
const NOT_MINE: unique symbol = Symbol('not mine');
type Value = unknown;

const MAX_DEPTH = 64;

// Field ids (bits, to catch a repeated field).
const F_TYPE = 1;
const F_PROCESS = 2;
const F_F = 4;
const F_VALUE = 8;
const F_KEY = 16;
const F_TIME = 32;
const F_UNCERTAINTY = 64;
const F_SEQ = 128;
const F_NODE = 256;
const F_ERROR = 512;
/** A field `jsonlOp` ignores ("index", "line", anything else): its value is read and dropped. */
const F_OTHER = 0;


/** Reads op lines; one instance per file (it keeps no state between lines but its scratch fields). */
export class JsonlOpScanner {
  private b: Buffer = Buffer.alloc(0);
  private p = 0;
  private end = 0;
  private depth = 0;
  private readonly stack: unknown[] = [];
  private top = 0;

  /**
   * Reads the line starting at `start` (the buffer's bytes up to `end`) and pushes its op, numbered
   * `index`. Returns the position after the line's newline (or `end`), or -1 when the line is not the
   * common shape: then nothing was pushed and the caller reads the line the slow way.
   */
  scan(b: Buffer, start: number, end: number, line: number, index: number, ops: Op[]): number {
    this.b = b;
    this.p = start;
    this.end = end;
    this.depth = 0;
    this.drop(0);
    if (this.ws() !== 123) return -1;
    this.p++;
    let seen = 0;
    let type: unknown;
    let process: unknown;
    let f: unknown;
    let value: unknown;
    let key: unknown;
    let time: unknown;
    let uncertainty: unknown;
    let seq: unknown;
    let node: unknown;
    let error: unknown;
    let c = this.ws();
    if (c !== 34) return -1; // {} or not a key
    for (;;) {
      const field = this.field();
      if (field < 0) return -1;
      if (field !== F_OTHER) {
        if ((seen & field) !== 0) return -1; // JSON.parse keeps the last one: leave it to JSON.parse
        seen |= field;
      }
      if (this.ws() !== 58) return -1;
      this.p++;
      this.ws();
      const v = this.value();
      if (v === NOT_MINE) return -1;
      switch (field) {
        case F_TYPE: type = v; break;
        case F_PROCESS: process = v; break;
        case F_F: f = v; break;
        case F_VALUE: value = v; break;
        case F_KEY: key = v; break;
        case F_TIME: time = v; break;
        case F_UNCERTAINTY: uncertainty = v; break;
        case F_SEQ: seq = v; break;
        case F_NODE: node = v; break;
        case F_ERROR: error = v; break;
        default: break;
      }
      c = this.ws();
      if (c === 44) {
        this.p++;
        if (this.ws() !== 34) return -1;
        continue;
      }
      if (c !== 125) return -1;
      this.p++;
      break;
    }
    c = this.ws();
    if (c !== 10 && c !== -1) return -1;
    // The checks of jsonlOp: any line they refuse goes the slow way, which says why.
    if (type !== 'invoke' && type !== 'ok' && type !== 'fail' && type !== 'info') return -1;
    if (!(typeof process === 'number' && Number.isInteger(process)) && process !== 'nemesis') return -1;
    if (typeof f !== 'string') return -1;
    if (type === 'ok' && process !== 'nemesis' && (seen & F_VALUE) === 0) return -1;
    if (!nonNegative(uncertainty) || !nonNegative(seq) || (time !== undefined && time !== null && !(typeof time === 'number' && Number.isFinite(time)))) return -1;
    const op = newOp(index, type as OpType, process as ProcessId, f, value ?? null, line);
    if (key !== undefined && key !== null) op.key = typeof key === 'string' ? key : JSON.stringify(key);
    if (typeof time === 'number') op.time = time;
    if (typeof uncertainty === 'number') op.uncertainty = uncertainty;
    if (typeof seq === 'number') op.seq = seq;
    if (typeof node === 'string') op.node = node;
    if (error !== undefined && error !== null) op.error = typeof error === 'string' ? error : JSON.stringify(error);
    ops.push(op);
    return c === 10 ? this.p + 1 : this.p;
  }

  /** Skips JSON whitespace within the line; returns the byte there, or -1 at the end. */
  private ws(): number {
    const b = this.b;
    let p = this.p;
    while (p < this.end) {
      const c = b[p]!;
      if (c !== 32 && c !== 9 && c !== 13) {
        this.p = p;
        return c;
      }
      p++;
    }
    this.p = p;
    return -1;
  }

  /** A field name (at its opening quote): its bit, F_OTHER, or -1 when it has an escape or leaves ASCII. */
  private field(): number {
    const b = this.b;
    const s = this.p + 1;
    let p = s;
    while (p < this.end) {
      const c = b[p]!;
      if (c === 34) break;
      if (c === 92 || c < 32 || c > 126) return -1;
      p++;
    }
    if (p >= this.end) return -1;
    this.p = p + 1;
    const n = p - s;
    let id = F_OTHER;
    switch (b[s]) {
      case 116: // t
        if (n === 4 && b[s + 1] === 121 && b[s + 2] === 112 && b[s + 3] === 101) id = F_TYPE;
        else if (n === 4 && b[s + 1] === 105 && b[s + 2] === 109 && b[s + 3] === 101) id = F_TIME;
        break;
      case 112: // p
        if (n === 7 && same(b, s, 'process')) id = F_PROCESS;
        break;
      case 102: // f
        if (n === 1) id = F_F;
        break;
      case 118: // v
        if (n === 5 && same(b, s, 'value')) id = F_VALUE;
        break;
      case 107: // k
        if (n === 3 && b[s + 1] === 101 && b[s + 2] === 121) id = F_KEY;
        break;
      case 117: // u
        if (n === 11 && same(b, s, 'uncertainty')) id = F_UNCERTAINTY;
        break;
      case 115: // s
        if (n === 3 && b[s + 1] === 101 && b[s + 2] === 113) id = F_SEQ;
        break;
      case 110: // n
        if (n === 4 && same(b, s, 'node')) id = F_NODE;
        break;
      case 101: // e
        if (n === 5 && same(b, s, 'error')) id = F_ERROR;
        break;
      default:
        break;
    }
    return id;
  }

  /** One JSON value at the current byte (whitespace skipped), or NOT_MINE. */
  private value(): Value {
    const b = this.b;
    const p = this.p;
    if (p >= this.end) return NOT_MINE;
    const c = b[p]!;
    if (c === 34) return this.string();
    if (isDigit(c) || c === 45) return this.number();
    if (c === 91) return this.array();
    if (c === 123) return this.object();
    if (c === 110) return this.word(0x6c6c756e, null); // null
    if (c === 116) return this.word(0x65757274, true); // true
    if (c === 102) {
      // false
      if (p + 5 <= this.end && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101) {
        this.p = p + 5;
        return false;
      }
      return NOT_MINE;
    }
    return NOT_MINE;
  }

  /** A four-letter literal whose bytes, little-endian, are `code`. */
  private word(code: number, v: null | boolean): Value {
    const b = this.b;
    const p = this.p;
    if (p + 4 > this.end || (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) !== code) return NOT_MINE;
    this.p = p + 4;
    return v;
  }

  private string(): Value {
    const b = this.b;
    const s = this.p + 1;
    let p = s;
    let h = 0;
    for (;;) {
      if (p >= this.end) return NOT_MINE;
      const c = b[p]!;
      if (c === 34) break;
      if (c === 92 || c < 32 || c > 126) return NOT_MINE;
      h = (Math.imul(h, 31) + c) | 0;
      p++;
    }
    this.p = p + 1;
    return p - s <= MAX_INTERNED_BYTES ? internAscii(b, s, p, h) : b.toString('latin1', s, p);
  }

  private number(): Value {
    const q = jsonNumberEnd(this.b, this.p, this.end);
    if (q < 0) return NOT_MINE;
    this.p = q;
    return scannedNumber.value;
  }

  private array(): Value {
    if (++this.depth > MAX_DEPTH) return NOT_MINE;
    this.p++;
    let c = this.ws();
    if (c === 93) {
      this.p++;
      this.depth--;
      return [];
    }
    // Up to three elements (micro-ops, tuples) go straight into an exactly sized array.
    const a = this.value();
    if (a === NOT_MINE) return NOT_MINE;
    c = this.ws();
    if (c === 93) return this.close([a]);
    if (c !== 44) return NOT_MINE;
    this.p++;
    this.ws();
    const b = this.value();
    if (b === NOT_MINE) return NOT_MINE;
    c = this.ws();
    if (c === 93) return this.close([a, b]);
    if (c !== 44) return NOT_MINE;
    this.p++;
    this.ws();
    const d = this.value();
    if (d === NOT_MINE) return NOT_MINE;
    c = this.ws();
    if (c === 93) return this.close([a, b, d]);
    // Longer ones collect on a shared stack and leave it exactly sized: a read of 20 elements must not keep the
    // 36 slots a pushed-to array grows to (a history holds hundreds of thousands of them).
    const stack = this.stack;
    const base = this.top;
    stack[this.top++] = a;
    stack[this.top++] = b;
    stack[this.top++] = d;
    for (;;) {
      if (c !== 44) return this.drop(base);
      this.p++;
      this.ws();
      const v = this.value();
      if (v === NOT_MINE) return this.drop(base);
      stack[this.top++] = v;
      c = this.ws();
      if (c === 93) {
        const out = stack.slice(base, this.top);
        this.drop(base);
        return this.close(out);
      }
    }
  }

  /** Pops the shared stack back to `base`; returns NOT_MINE, for the failing paths. */
  private drop(base: number): typeof NOT_MINE {
    for (let i = base; i < this.top; i++) this.stack[i] = undefined;
    this.top = base;
    return NOT_MINE;
  }

  private close(v: unknown[]): unknown[] {
    this.p++;
    this.depth--;
    return v;
  }

  private object(): Value {
    if (++this.depth > MAX_DEPTH) return NOT_MINE;
    this.p++;
    const o: Record<string, unknown> = {};
    let c = this.ws();
    if (c === 125) {
      this.p++;
      this.depth--;
      return o;
    }
    for (;;) {
      if (c !== 34) return NOT_MINE;
      const k = this.string();
      // A repeated key (JSON.parse keeps the last) and "__proto__" (an own property there) go the slow way.
      if (k === NOT_MINE || k === '__proto__' || Object.prototype.hasOwnProperty.call(o, k as string)) return NOT_MINE;
      if (this.ws() !== 58) return NOT_MINE;
      this.p++;
      this.ws();
      const v = this.value();
      if (v === NOT_MINE) return NOT_MINE;
      o[k as string] = v;
      c = this.ws();
      if (c === 125) {
        this.p++;
        this.depth--;
        return o;
      }
      if (c !== 44) return NOT_MINE;
      this.p++;
      c = this.ws();
    }
  }
}

function same(b: Buffer, s: number, name: string): boolean {
  for (let i = 1; i < name.length; i++) if (b[s + i] !== name.charCodeAt(i)) return false;
  return true;
}

function nonNegative(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'number' && Number.isFinite(v) && v >= 0);
}
