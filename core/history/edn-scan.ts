/**
 * The fast path for Jepsen EDN histories: one op map per line (`{:type :ok, :f :write, :value [3 1], :process 1,
 * :time 123, :index 5}`) read straight from the file's bytes, with no generic tree and no string per line. It
 * takes only the common shape (keyword keys, keywords, plain decimal numbers, nil/true/false, ASCII strings without
 * escapes, vectors and lists as values) and answers "not mine" (-1) for anything else, which the caller then reads
 * with the full EDN reader, so every line reads exactly as the full reader reads it, errors included.
 * Pure: bytes in, fields out.
 */
import { MAX_INTERNED_BYTES, internAscii } from './byte-intern';
import { isDelimiterCode } from './edn';

const NOT_MINE: unique symbol = Symbol('not mine');

const MAX_DEPTH = 64;
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** 1 for the ASCII bytes that end an EDN token (whitespace, commas, terminating macro characters). */
const DELIM = new Uint8Array(128);
for (let c = 0; c < 128; c++) DELIM[c] = isDelimiterCode(c) ? 1 : 0;

const K_TYPE = 1;
const K_PROCESS = 2;
const K_F = 4;
const K_VALUE = 8;
const K_TIME = 16;
const K_INDEX = 32;
const K_KEY = 64;
const K_ERROR = 128;
const K_NODE = 256;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

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
    const b = this.b;
    const s = this.p + 1;
    let bit = 0;
    let n = 0;
    switch (b[s]) {
      case 116: // t
        if (b[s + 1] === 121 && b[s + 2] === 112 && b[s + 3] === 101) bit = K_TYPE;
        else if (b[s + 1] === 105 && b[s + 2] === 109 && b[s + 3] === 101) bit = K_TIME;
        n = 4;
        break;
      case 102: // f
        bit = K_F;
        n = 1;
        break;
      case 118: // v
        if (b[s + 1] === 97 && b[s + 2] === 108 && b[s + 3] === 117 && b[s + 4] === 101) bit = K_VALUE;
        n = 5;
        break;
      case 112: // p
        if (b[s + 1] === 114 && b[s + 2] === 111 && b[s + 3] === 99 && b[s + 4] === 101 && b[s + 5] === 115 && b[s + 6] === 115) bit = K_PROCESS;
        n = 7;
        break;
      case 105: // i
        if (b[s + 1] === 110 && b[s + 2] === 100 && b[s + 3] === 101 && b[s + 4] === 120) bit = K_INDEX;
        n = 5;
        break;
      case 107: // k
        if (b[s + 1] === 101 && b[s + 2] === 121) bit = K_KEY;
        n = 3;
        break;
      case 101: // e
        if (b[s + 1] === 114 && b[s + 2] === 114 && b[s + 3] === 111 && b[s + 4] === 114) bit = K_ERROR;
        n = 5;
        break;
      case 110: // n
        if (b[s + 1] === 111 && b[s + 2] === 100 && b[s + 3] === 101) bit = K_NODE;
        n = 4;
        break;
      default:
        return 0;
    }
    if (bit === 0 || s + n > this.end || !this.endsAt(s + n)) return 0;
    this.p = s + n;
    return bit;
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
    const b = this.b;
    let p = this.p;
    const neg = b[p] === 45;
    if (neg) p++;
    const d0 = p;
    let m = 0;
    while (p < this.end && isDigit(b[p]!)) m = m * 10 + (b[p++]! - 48);
    const digits = p - d0;
    if (digits === 0) return NOT_MINE;
    if (p < this.end && b[p] === 46) {
      // A float: digits "." digits (no exponent, no M), read as Number reads it.
      p++;
      const f0 = p;
      while (p < this.end && isDigit(b[p]!)) m = m * 10 + (b[p++]! - 48);
      const scale = p - f0;
      if (!this.endsAt(p) || m > Number.MAX_SAFE_INTEGER || scale > 22) return NOT_MINE;
      this.p = p;
      const v = m / POW10[scale]!;
      return neg ? -v : v;
    }
    // An integer as the reader's own fast path takes it: at most 15 digits, no leading zero.
    if (!this.endsAt(p) || digits > 15 || (digits > 1 && b[d0] === 48)) return NOT_MINE;
    this.p = p;
    return neg ? 0 - m : m;
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

