/**
 * The fast path for Jepsen EDN histories: one op map per line (`{:type :ok, :f :write, :value [3 1], :process 1,
 * :time 123, :index 5}`) read straight from the file's bytes, with no generic tree and no string per line. It
 * takes only the common shape (keyword keys, keywords, plain decimal numbers, nil/true/false, ASCII strings without
 * escapes, vectors and lists as values) and answers "not mine" (-1) for anything else, which the caller then reads
 * with the full EDN reader, so every line reads exactly as the full reader reads it, errors included.
 * Pure: bytes in, fields out.
 */
import { MAX_INTERNED_BYTES, internAscii } from './byte-intern';
import { EDN_DELIM, FIELD_BITS_MASK, FIELD_LENGTH_SHIFT, K_ERROR, K_F, K_INDEX, K_KEY, K_NODE, K_PROCESS, K_TIME, K_TYPE, K_VALUE, ednFieldAt, ednNumberEnd, isDigit, scannedNumber } from './op-bytes';

const NOT_MINE: unique symbol = Symbol('not mine');

const MAX_DEPTH = 64;
const DELIM = EDN_DELIM;



/** EDN whitespace within a line (commas included; a newline ends the line). */
function isSpace(c: number): boolean {
  return c === 32 || c === 44 || c === 9 || c === 13 || c === 12 || c === 11;
}

/** Reads op-map lines; after a successful `scan`, the op's fields are in its public fields. */
export class EdnOpScanner {
  /** True when the line scanned was blank (no op). */
  blank = false;
  type: unknown;
  process: unknown;
  f: unknown;
  value: unknown;
  time: unknown;
  index: unknown;
  key: unknown;
  error: unknown;
  node: unknown;
  private b: Buffer = Buffer.alloc(0);
  private p = 0;
  private end = 0;
  private depth = 0;
  private readonly stack: unknown[] = [];
  private top = 0;
  private readonly extras: string[] = [];

  /**
   * Reads the line at `start` (bytes up to `end`). Returns the position after its newline (or `end`), or -1 when
   * the line is not one op map of the common shape.
   */
  scan(b: Buffer, start: number, end: number): number {
    this.b = b;
    this.p = start;
    this.end = end;
    this.depth = 0;
    this.drop(0);
    let c = this.ws();
    if (c === 10 || c === -1) {
      this.blank = true;
      return c === 10 ? this.p + 1 : this.p;
    }
    if (c !== 123) return -1;
    this.blank = false;
    this.p++;
    this.type = undefined;
    this.process = undefined;
    this.f = undefined;
    this.value = null;
    this.time = undefined;
    this.index = undefined;
    this.key = undefined;
    this.error = undefined;
    this.node = undefined;
    let extras = 0; // how many of this.extras are this line's
    let seen = 0;
    for (;;) {
      c = this.ws();
      if (c === 125) {
        this.p++;
        break;
      }
      if (c !== 58) return -1;
      const bit = this.knownKey();
      if (bit !== 0) {
        if ((seen & bit) !== 0) return -1;
        seen |= bit;
      } else {
        const k = this.keyword();
        if (k === NOT_MINE) return -1;
        for (let i = 0; i < extras; i++) if (this.extras[i] === k) return -1;
        this.extras[extras++] = k;
      }
      c = this.ws();
      if (c === 125 || c === -1 || c === 10) return -1;
      const v = this.read(c);
      if (v === NOT_MINE) return -1;
      switch (bit) {
        case K_TYPE: this.type = v; break;
        case K_PROCESS: this.process = v; break;
        case K_F: this.f = v; break;
        case K_VALUE: this.value = v; break;
        case K_TIME: this.time = v; break;
        case K_INDEX: this.index = v; break;
        case K_KEY: this.key = v; break;
        case K_ERROR: this.error = v; break;
        case K_NODE: this.node = v; break;
        default: break;
      }
    }
    c = this.ws();
    if (c === 10) return this.p + 1;
    return c === -1 ? this.p : -1;
  }

  /** Skips whitespace within the line; returns the byte there, or -1 at the end. */
  private ws(): number {
    const b = this.b;
    let p = this.p;
    while (p < this.end) {
      const c = b[p]!;
      if (!isSpace(c)) {
        this.p = p;
        return c;
      }
      p++;
    }
    this.p = p;
    return -1;
  }

  /** True when the token that ended at `p` really ends there, as the full reader sees it. */
  private endsAt(p: number): boolean {
    if (p >= this.end) return true;
    const c = this.b[p]!;
    return c < 128 && DELIM[c] === 1;
  }

  /** At a ":", the op field its keyword names when it is one of them (then past it), else 0 (and stays). */
  private knownKey(): number {
    const s = this.p + 1;
    const field = ednFieldAt(this.b, s);
    const e = s + (field >> FIELD_LENGTH_SHIFT);
    if (field === 0 || e > this.end || !this.endsAt(e)) return 0;
    this.p = e;
    return field & FIELD_BITS_MASK;
  }

  private keyword(): string | typeof NOT_MINE {
    const b = this.b;
    const s = ++this.p;
    let p = s;
    let h = 0;
    while (p < this.end) {
      const c = b[p]!;
      if (c >= 128) return NOT_MINE;
      if (DELIM[c] === 1) break;
      h = (Math.imul(h, 31) + c) | 0;
      p++;
    }
    const n = p - s;
    if (n === 0 || n > MAX_INTERNED_BYTES) return NOT_MINE;
    const last = b[p - 1];
    if (b[s] === 58 || last === 58 || last === 47) return NOT_MINE; // ::auto, a trailing ":" or "/": the full reader decides
    this.p = p;
    return internAscii(b, s, p, h);
  }

  /** The value starting with byte `c` (not whitespace), or NOT_MINE. */
  private read(c: number): unknown {
    if (c === 58) return this.keyword();
    if (isDigit(c) || c === 45) return this.number();
    if (c === 91) return this.seq(93);
    if (c === 40) return this.seq(41);
    if (c === 34) return this.string();
    if (c === 110 || c === 116 || c === 102) return this.word();
    return NOT_MINE;
  }

  /** nil, true or false (any other symbol is not ours). */
  private word(): unknown {
    const b = this.b;
    const p = this.p;
    let v: unknown = NOT_MINE;
    let n = 0;
    if (b[p] === 110 && b[p + 1] === 105 && b[p + 2] === 108) {
      v = null;
      n = 3;
    } else if (b[p] === 116 && b[p + 1] === 114 && b[p + 2] === 117 && b[p + 3] === 101) {
      v = true;
      n = 4;
    } else if (b[p] === 102 && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101) {
      v = false;
      n = 5;
    }
    if (n === 0 || p + n > this.end || !this.endsAt(p + n)) return NOT_MINE;
    this.p = p + n;
    return v;
  }

  private number(): unknown {
    const q = ednNumberEnd(this.b, this.p, this.end);
    if (q < 0) return NOT_MINE;
    this.p = q;
    return scannedNumber.value;
  }

  private string(): unknown {
    const b = this.b;
    const s = this.p + 1;
    let p = s;
    let h = 0;
    for (;;) {
      if (p >= this.end) return NOT_MINE;
      const c = b[p]!;
      if (c === 34) break;
      if (c === 92 || c === 10 || c >= 128) return NOT_MINE;
      h = (Math.imul(h, 31) + c) | 0;
      p++;
    }
    this.p = p + 1;
    return p - s <= MAX_INTERNED_BYTES ? internAscii(b, s, p, h) : b.toString('latin1', s, p);
  }

  /** A vector or list (at its opening bracket) up to `close`. */
  private seq(close: number): unknown {
    if (++this.depth > MAX_DEPTH) return NOT_MINE;
    this.p++;
    // Up to three elements go straight into an exactly sized array.
    let c = this.ws();
    if (c === close) return this.close([]);
    const a = this.element(c);
    if (a === NOT_MINE) return NOT_MINE;
    c = this.ws();
    if (c === close) return this.close([a]);
    const x = this.element(c);
    if (x === NOT_MINE) return NOT_MINE;
    c = this.ws();
    if (c === close) return this.close([a, x]);
    const y = this.element(c);
    if (y === NOT_MINE) return NOT_MINE;
    c = this.ws();
    if (c === close) return this.close([a, x, y]);
    // Longer ones collect on a shared stack and leave it exactly sized (as the full reader's do).
    const stack = this.stack;
    const base = this.top;
    stack[this.top++] = a;
    stack[this.top++] = x;
    stack[this.top++] = y;
    for (;;) {
      const v = this.element(c);
      if (v === NOT_MINE) return this.drop(base);
      stack[this.top++] = v;
      c = this.ws();
      if (c === close) {
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

  /** An element of a sequence: not a closing bracket of another kind, not the end of the line. */
  private element(c: number): unknown {
    if (c === -1 || c === 10 || c === 93 || c === 41 || c === 125) return NOT_MINE;
    // "-" starts a number only before a digit (else it is a symbol).
    if (c === 45 && !(this.p + 1 < this.end && isDigit(this.b[this.p + 1]!))) return NOT_MINE;
    return this.read(c);
  }

  private close(v: unknown[]): unknown[] {
    this.p++;
    this.depth--;
    return v;
  }
}

