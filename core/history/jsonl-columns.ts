/**
 * The fast path for our history.jsonl, into columns: one op object per line read straight from the file's bytes
 * into a HistoryColumns, values onto its tape, strings into its table, with no object per line (a map inside a
 * value is the one thing still made, by JSON.parse of its own bytes). It takes only the common shape (fields of
 * the types jsonlOp expects, ASCII strings without escapes, plain numbers, no repeated field) and answers "not
 * mine" (-1) for anything else, which the caller then reads with JSON.parse and jsonlOp, so every line reads
 * exactly as they read it, errors included. Pure: bytes in, columns out.
 */
import { jsonNumberEnd, opTypeAt, scannedNumber } from './op-bytes';
import { HistoryColumns, T_OK, V_ARR, V_FALSE, V_JS, V_NULL, V_NUM, V_STR, V_TRUE } from './columns';


/** Here, not imported: a call through another module's exports costs this hot path a property load each time. */
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
const MAX_DEPTH = 64;
/** What a reader returns for input it does not take. */
const NO = -2;
/** A number field that was `null` (absent). */
const ABSENT = NaN;

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
/** A field jsonlOp ignores ("index", "line", anything else): its value is read and dropped. */
const F_OTHER = 0;


/** Reads op lines into one HistoryColumns; one instance per file. */
export class JsonlColumnScanner {
  private b: Uint8Array = new Uint8Array(0);
  private p = 0;
  private end = 0;
  /** The number a number reader read (NaN for null where null is allowed). */
  private num = 0;

  constructor(private readonly cols: HistoryColumns) {}

  /**
   * Reads the line starting at `start` (bytes up to `end`) as event number `cols.length`, from source line
   * `line`. Returns the position after the line's newline (or `end`), or -1 when the line is not the common shape:
   * then the columns are as before and the caller reads the line the slow way.
   */
  scan(b: Uint8Array, start: number, end: number, line: number): number {
    const cols = this.cols;
    const tape0 = cols.tapeLength;
    this.b = b;
    this.p = start;
    this.end = end;
    const r = this.line(line, tape0);
    if (r < 0) cols.tapeLength = tape0;
    return r;
  }

  private line(line: number, tape0: number): number {
    const cols = this.cols;
    if (this.ws() !== 123) return -1;
    this.p++;
    let seen = 0;
    let type = -1;
    let process = 0;
    let f = -1;
    let key = -1;
    let node = -1;
    let valueAt = -1; // where the value's cells start, once read
    let time = ABSENT;
    let uncertainty = ABSENT;
    let seq = ABSENT;
    let error: string | undefined;
    if (this.ws() !== 34) return -1; // {} or not a key
    for (;;) {
      const field = this.field();
      if (field < 0) return -1;
      if (field !== F_OTHER) {
        if ((seen & field) !== 0) return -1; // JSON.parse keeps the last one: leave it to JSON.parse
        seen |= field;
      }
      if (this.b[this.p] === 58 && this.p < this.end) this.p++; // the colon, most often right after the name
      else if (this.ws() === 58) this.p++;
      else return -1;
      const c = this.ws();
      switch (field) {
        case F_TYPE:
          if (c !== 34 || (type = this.typeName()) < 0) return -1;
          break;
        case F_PROCESS:
          if (c === 34) {
            if (this.stringId() < 0 || !this.wasNemesis()) return -1;
            process = NaN;
          } else {
            if (!this.number() || !Number.isInteger(this.num)) return -1;
            process = this.num;
          }
          break;
        case F_F:
          if (c !== 34 || (f = this.stringId()) < 0) return -1;
          break;
        case F_VALUE:
          valueAt = cols.tapeLength;
          if (this.value(0) === NO) return -1;
          break;
        case F_KEY:
          if (c === 34) {
            if ((key = this.stringId()) < 0) return -1;
          } else if (!this.isNull()) return -1; // a key that is not a string: jsonlOp names it by its JSON
          break;
        case F_NODE:
          if (c === 34) {
            if ((node = this.stringId()) < 0) return -1;
          } else if (!this.isNull()) return -1;
          break;
        case F_ERROR:
          if (c === 34) {
            const id = this.stringId();
            if (id < 0) return -1;
            error = cols.string(id);
          } else if (!this.isNull()) return -1;
          break;
        case F_TIME:
          if (!this.numberOrNull()) return -1;
          time = this.num;
          break;
        case F_UNCERTAINTY:
          if (!this.numberOrNull() || this.num < 0) return -1;
          uncertainty = this.num;
          break;
        case F_SEQ:
          if (!this.numberOrNull() || this.num < 0) return -1;
          seq = this.num;
          break;
        default: {
          // Read, and dropped ("index", "line": a number needs no cell).
          if ((c >= 48 && c <= 57) || c === 45) {
            if (!this.number()) return -1;
            break;
          }
          const at = cols.tapeLength;
          if (this.value(0) === NO) return -1;
          cols.tapeLength = at;
        }
      }
      const d = this.ws();
      if (d === 44) {
        this.p++;
        if (this.ws() !== 34) return -1;
        continue;
      }
      if (d !== 125) return -1;
      this.p++;
      break;
    }
    const c = this.ws();
    if (c !== 10 && c !== -1) return -1;
    // The checks of jsonlOp: any line they refuse goes the slow way, which says why.
    if (type < 0 || f < 0 || (seen & F_PROCESS) === 0) return -1;
    if (type === T_OK && !Number.isNaN(process) && (seen & F_VALUE) === 0) return -1;
    // A dropped field's cells are gone again, so the value (if any) starts at tape0; an absent one reads as nil.
    if (valueAt < 0) {
      cols.reserveTape(1);
      cols.cell(V_NULL, 0);
    }
    const i = cols.add(type, process, f, line);
    cols.value[i] = tape0;
    if (key >= 0) cols.key[i] = key;
    cols.time[i] = time;
    if (!Number.isNaN(uncertainty)) cols.setUncertainty(i, uncertainty);
    if (!Number.isNaN(seq)) cols.setSeq(i, seq);
    if (node >= 0) cols.setNode(i, node);
    if (error !== undefined) cols.errors.set(i, error);
    return c === 10 ? this.p + 1 : this.p;
  }

  /** Skips JSON whitespace within the line; returns the byte there, or -1 at the end. */
  private ws(): number {
    const b = this.b;
    let p = this.p;
    if (p < this.end && b[p]! > 32) return b[p]!; // most often: no whitespace at all
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
    // The names of the op's fields, byte by byte: a match up to the closing quote is that name exactly.
    switch (b[s]) {
      case 116: // t
        if (b[s + 4] === 34) {
          if (b[s + 1] === 121 && b[s + 2] === 112 && b[s + 3] === 101) return this.known(s + 5, F_TYPE);
          if (b[s + 1] === 105 && b[s + 2] === 109 && b[s + 3] === 101) return this.known(s + 5, F_TIME);
        }
        break;
      case 112: // p
        if (b[s + 7] === 34 && b[s + 1] === 114 && b[s + 2] === 111 && b[s + 3] === 99 && b[s + 4] === 101 && b[s + 5] === 115 && b[s + 6] === 115) return this.known(s + 8, F_PROCESS);
        break;
      case 102: // f
        if (b[s + 1] === 34) return this.known(s + 2, F_F);
        break;
      case 118: // v
        if (b[s + 5] === 34 && b[s + 1] === 97 && b[s + 2] === 108 && b[s + 3] === 117 && b[s + 4] === 101) return this.known(s + 6, F_VALUE);
        break;
      case 107: // k
        if (b[s + 3] === 34 && b[s + 1] === 101 && b[s + 2] === 121) return this.known(s + 4, F_KEY);
        break;
      case 117: // u
        if (b[s + 11] === 34 && b[s + 1] === 110 && b[s + 2] === 99 && b[s + 3] === 101 && b[s + 4] === 114 && b[s + 5] === 116 && b[s + 6] === 97 && b[s + 7] === 105 && b[s + 8] === 110 && b[s + 9] === 116 && b[s + 10] === 121) return this.known(s + 12, F_UNCERTAINTY);
        break;
      case 115: // s
        if (b[s + 3] === 34 && b[s + 1] === 101 && b[s + 2] === 113) return this.known(s + 4, F_SEQ);
        break;
      case 110: // n
        if (b[s + 4] === 34 && b[s + 1] === 111 && b[s + 2] === 100 && b[s + 3] === 101) return this.known(s + 5, F_NODE);
        break;
      case 101: // e
        if (b[s + 5] === 34 && b[s + 1] === 114 && b[s + 2] === 114 && b[s + 3] === 111 && b[s + 4] === 114) return this.known(s + 6, F_ERROR);
        break;
      default:
        break;
    }
    // Any other name: read to its closing quote, and ignored.
    let p = s;
    while (p < this.end) {
      const c = b[p]!;
      if (c === 34) break;
      if (c === 92 || c < 32 || c > 126) return -1;
      p++;
    }
    if (p >= this.end) return -1;
    this.p = p + 1;
    return F_OTHER;
  }

  /** A known field's name ended before `next` (within the line: its closing quote was seen there). */
  private known(next: number, field: number): number {
    if (next > this.end) return -1;
    this.p = next;
    return field;
  }

  /** The op type string at the opening quote, as T_*; -1 for anything else. */
  private typeName(): number {
    const b = this.b;
    const p = this.p + 1;
    const t = opTypeAt(b, p);
    if (t < 0) return -1;
    const n = t >> 2;
    if (p + n >= this.end || b[p + n] !== 34) return -1;
    this.p = p + n + 1;
    return t & 3;
  }

  /** The string at the opening quote, interned: its id, or -1 when it has an escape or leaves ASCII. */
  private stringId(): number {
    const b = this.b;
    const s = this.p + 1;
    let p = s;
    let h = 0;
    for (;;) {
      if (p >= this.end) return -1;
      const c = b[p]!;
      if (c === 34) break;
      if (c === 92 || c < 32 || c > 126) return -1;
      h = (Math.imul(h, 31) + c) | 0;
      p++;
    }
    this.p = p + 1;
    this.lastFrom = s;
    this.lastTo = p;
    return this.cols.strings.idOfAscii(b, s, p, h);
  }

  private lastFrom = 0;
  private lastTo = 0;

  /** True when the string just read was "nemesis". */
  private wasNemesis(): boolean {
    return this.lastTo - this.lastFrom === 7 && same(this.b, this.lastFrom, 'nemesis') && this.b[this.lastFrom] === 110;
  }

  private isNull(): boolean {
    const b = this.b;
    const p = this.p;
    if (p + 4 <= this.end && b[p] === 110 && b[p + 1] === 117 && b[p + 2] === 108 && b[p + 3] === 108) {
      this.p = p + 4;
      return true;
    }
    return false;
  }

  /** A finite number or null (NaN) into `num`; false for anything else. */
  private numberOrNull(): boolean {
    if (this.isNull()) {
      this.num = NaN;
      return true;
    }
    return this.number();
  }

  /** A finite JSON number into `num`, as JSON.parse reads it; false when there is none. */
  private number(): boolean {
    const q = jsonNumberEnd(this.b, this.p, this.end);
    if (q < 0) return false;
    this.p = q;
    this.num = scannedNumber.value;
    return Number.isFinite(this.num);
  }

  /** One JSON value at the current byte (whitespace skipped) onto the tape; NO for input it does not take. */
  private value(depth: number): number {
    const cols = this.cols;
    const b = this.b;
    const p = this.p;
    if (p >= this.end) return NO;
    cols.reserveTape(1);
    const c = b[p]!;
    if (c === 34) {
      const id = this.stringId();
      return id < 0 ? NO : cols.cell(V_STR, id);
    }
    if (isDigit(c) || c === 45) return this.number() ? cols.cell(V_NUM, this.num) : NO;
    if (c === 91) return this.array(depth);
    if (c === 123) return this.object();
    if (this.isNull()) return cols.cell(V_NULL, 0);
    if (c === 116 && p + 4 <= this.end && b[p + 1] === 114 && b[p + 2] === 117 && b[p + 3] === 101) {
      this.p = p + 4;
      return cols.cell(V_TRUE, 0);
    }
    if (c === 102 && p + 5 <= this.end && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101) {
      this.p = p + 5;
      return cols.cell(V_FALSE, 0);
    }
    return NO;
  }

  private array(depth: number): number {
    if (depth >= MAX_DEPTH) return NO;
    const cols = this.cols;
    const at = cols.cell(V_ARR, 0);
    this.p++;
    let c = this.ws();
    if (c === 93) {
      this.p++;
      return at;
    }
    let n = 0;
    for (;;) {
      if (this.value(depth + 1) === NO) return NO;
      n++;
      c = this.ws();
      if (c === 93) break;
      if (c !== 44) return NO;
      this.p++;
      this.ws();
    }
    this.p++;
    cols.nums[at] = n;
    return at;
  }

  /** A map: its bytes (brackets matched, strings skipped) read by JSON.parse, kept as a JavaScript value. */
  private object(): number {
    const b = this.b;
    const s = this.p;
    let p = s;
    let depth = 0;
    let ascii = true;
    while (p < this.end) {
      const c = b[p]!;
      if (c === 34) {
        p++;
        while (p < this.end && b[p] !== 34) {
          if (b[p] === 92) p++;
          else if (b[p]! > 126) ascii = false;
          p++;
        }
      } else if (c > 126) ascii = false;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        if (--depth === 0) break;
      } else if (c === 10) return NO;
      p++;
    }
    if (p >= this.end || depth !== 0 || !ascii) return NO;
    let v: unknown;
    try {
      v = JSON.parse(text(this.b, s, p + 1));
    } catch {
      return NO;
    }
    this.p = p + 1;
    const cols = this.cols;
    const at = cols.cell(V_JS, cols.objects.length);
    cols.objects.push(v);
    return at;
  }
}

function text(b: Uint8Array, from: number, to: number): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1', from, to);
}

function same(b: Uint8Array, s: number, name: string): boolean {
  for (let i = 1; i < name.length; i++) if (b[s + i] !== name.charCodeAt(i)) return false;
  return true;
}
