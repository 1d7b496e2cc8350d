/**
 * The fast path for Jepsen EDN histories, into columns: one op map per line (`{:type :ok, :f :write, :value [3 1],
 * :process 1, :time 123, :index 5}`) read straight from the file's bytes into a HistoryColumns, the value onto its
 * tape, keywords and strings into its table by their bytes, with no object, array or string per line. It takes
 * the shape edn-scan.ts takes (keyword keys, at most 16 besides the op's own; keywords, plain decimal numbers it
 * can read exactly, nil/true/false, ASCII strings without escapes, vectors and lists as values), and of that only
 * lines the op reader takes without complaint (a known :type, an integer or :nemesis :process, a keyword or
 * string :f). For anything else it answers "not mine" (-1) with the columns as before, and the caller reads the
 * line with the full EDN reader, so every line reads exactly as it reads it, errors included. What the op reader
 * makes of each field is copied here: a :time kept only when a number, an :index only when an integer, a :node
 * only when a string, a :key or :error that is not a string named by its JSON. Pure: bytes in, columns out.
 */
import { HistoryColumns, V_ARR, V_FALSE, V_NULL, V_NUM, V_STR, V_TRUE } from './columns';
import { EDN_DELIM, FIELD_BITS_MASK, FIELD_LENGTH_SHIFT, K_ERROR, K_F, K_INDEX, K_KEY, K_NODE, K_PROCESS, K_TIME, K_TYPE, K_VALUE, ednFieldAt, ednNumberEnd, opTypeAt, scannedNumber } from './op-bytes';


/** Here, not imported: a call through another module's exports costs this hot path a property load each time. */
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
const MAX_DEPTH = 64;
/** What a value reader returns for input it does not take. */
const NO = -1;
/** The most keys other than the op's own one line may carry (a line with more goes the slow way). */
const MAX_EXTRAS = 16;

const DELIM = EDN_DELIM;



/**
 * The op field named by the keyword whose name starts at `s` (after its colon), when it is one of them and ends
 * at a delimiter: its bit | (name length << FIELD_LENGTH_SHIFT); else 0.
 */
function knownKey(b: Uint8Array, s: number, end: number): number {
  const field = ednFieldAt(b, s);
  const e = s + (field >> FIELD_LENGTH_SHIFT);
  if (field === 0 || e > end || (e < end && DELIM[b[e]!] === 0)) return 0;
  return field;
}

/** The integer plainInteger read. */
let parsed = 0;

/**
 * The end of the plain integer at `p` (1 to 15 digits, no sign, no leading zero, ending at a delimiter), its value
 * in `parsed`; -1 when there is none (then the general number reader decides).
 */
function plainInteger(b: Uint8Array, p: number, end: number): number {
  let q = p;
  let m = 0;
  let d = 0;
  // Nine digits fit in 32 bits; any more are added as doubles (exact up to 15 digits).
  const short = p + 9 < end ? p + 9 : end;
  while (q < short && (d = b[q]! - 48) >= 0 && d <= 9) {
    m = (m * 10 + d) | 0;
    q++;
  }
  let x = m;
  if (q === short) {
    while (q < end && (d = b[q]! - 48) >= 0 && d <= 9) {
      x = x * 10 + d;
      q++;
    }
  }
  const n = q - p;
  if (n === 0 || n > 15 || (n > 1 && b[p] === 48) || (q < end && DELIM[b[q]!] === 0)) return -1;
  parsed = x;
  return q;
}


/** 1 for EDN whitespace within a line (commas included; a newline ends the line). */
const SPACE = new Uint8Array(256);
for (const c of [32, 44, 9, 13, 12, 11]) SPACE[c] = 1;

/** As edn-history.ts's text(): how the op reader names a key or error that is not a string. */
function text(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
}

/** Reads op-map lines into one HistoryColumns; one instance per file. */
export class EdnColumnScanner {
  /** True when the line scanned was blank (no event added). */
  blank = false;
  /** The :index of the event just added (NaN when it has none that is an integer). */
  index = NaN;
  private b: Uint8Array = Buffer.alloc(0);
  private p = 0;
  private end = 0;
  /** The number a number reader read. */
  private num = 0;
  /** Where this line's extra keys' names start and end (after the colon), to find a repeated one. */
  private readonly extraFrom = new Int32Array(MAX_EXTRAS);
  private readonly extraTo = new Int32Array(MAX_EXTRAS);

  constructor(private readonly cols: HistoryColumns) {}

  /**
   * Reads the line starting at `start` (bytes up to `end`) as event number `cols.length`, from source line
   * `line`. Returns the position after the line's newline (or `end`), or -1 when the line is not one op map of
   * the common shape: then the columns are as before and the caller reads the line the slow way.
   */
  scan(b: Uint8Array, start: number, end: number, line: number): number {
    const cols = this.cols;
    // Every tape cell a line writes stands for at least one of its bytes: room for the line is room enough.
    if (cols.tapeLength + (end - start) + 1 > cols.tags.length) {
      const nl = b.indexOf(10, start);
      cols.reserveTape((nl < 0 ? end : nl) - start + 1);
    }
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
    const b = this.b;
    const end = this.end;
    // The common cases are read here with the position in a local; anything else by the methods below (which
    // keep it in this.p), and any input they do not take goes the slow way.
    let p = this.p;
    while (p < end && SPACE[b[p]!] === 1) p++;
    let c = p < end ? b[p]! : -1;
    if (c === 10 || c === -1) {
      this.blank = true;
      return c === 10 ? p + 1 : p;
    }
    if (c !== 123) return -1;
    this.blank = false;
    p++;
    let seen = 0;
    let extras = 0;
    let type = -1;
    let process = 0;
    let f = -1;
    let valueAt = -1;
    let time = NaN;
    let index = NaN;
    let key = -1;
    let node = -1;
    let error: string | undefined;
    for (;;) {
      while (p < end && SPACE[b[p]!] === 1) p++;
      c = p < end ? b[p]! : -1;
      if (c === 125) {
        p++;
        break;
      }
      if (c !== 58) return -1;
      const known = knownKey(b, p + 1, end);
      const bit = known & FIELD_BITS_MASK;
      if (bit !== 0) {
        if ((seen & bit) !== 0) return -1;
        seen |= bit;
        p += 1 + (known >> FIELD_LENGTH_SHIFT);
      } else {
        this.p = p;
        if (!this.extraKey(extras++)) return -1;
        p = this.p;
      }
      while (p < end && SPACE[b[p]!] === 1) p++;
      c = p < end ? b[p]! : -1;
      if (c === 125 || c === -1 || c === 10) return -1;
      if (bit === K_TYPE) {
        // A keyword or a string naming one of the four types.
        if (c !== 58 && c !== 34) return -1;
        const q = p + 1;
        const t = opTypeAt(b, q);
        if (t < 0) return -1;
        type = t & 3;
        const n = t >> 2;
        const e = q + n;
        if (c === 34) {
          if (e >= end || b[e] !== 34) return -1;
          p = e + 1;
        } else {
          if (e > end || (e < end && DELIM[b[e]!] === 0)) return -1;
          p = e;
        }
        continue;
      }
      if (bit === K_F && c === 58) {
        // A keyword, interned by its bytes.
        const s = p + 1;
        let q = s;
        let h = 0;
        while (q < end) {
          const d = b[q]!;
          if (DELIM[d] === 1) break;
          if (d >= 128) return -1;
          h = (Math.imul(h, 31) + d) | 0;
          q++;
        }
        if (q === s) return -1;
        const last = b[q - 1];
        if (b[s] === 58 || last === 58 || last === 47) return -1;
        f = cols.strings.idOfAscii(b, s, q, h);
        p = q;
        continue;
      }
      if (bit === K_PROCESS || bit === K_TIME || bit === K_INDEX) {
        // Most often a plain non-negative integer of at most 15 digits, without a leading zero.
        let x = NaN;
        const q = plainInteger(b, p, end);
        if (q >= 0) {
          x = parsed;
          p = q;
        } else {
          this.p = p;
          if (bit === K_PROCESS && (c === 58 || c === 34)) {
            if (!this.nemesis(c)) return -1;
          } else if (isDigit(c) || c === 45) {
            if (!this.number()) return -1;
            x = this.num;
          } else if (bit === K_PROCESS) return -1;
          else {
            // Not a number: read and dropped (the op reader ignores it).
            const at = this.value(c, 0);
            if (at < 0) return -1;
            cols.tapeLength = at;
          }
          p = this.p;
        }
        if (bit === K_TIME) time = x;
        else if (bit === K_INDEX) index = Number.isInteger(x) ? x : NaN;
        else if (Number.isNaN(x) || Number.isInteger(x)) process = x; // NaN: the nemesis
        else return -1;
        continue;
      }
      this.p = p;
      const at = this.value(c, 0);
      if (at < 0) return -1;
      p = this.p;
      if (bit === K_VALUE) {
        valueAt = at;
        continue;
      }
      // :f as a string, :key, :error, :node or another key: looked at, and dropped from the tape.
      const tag = cols.tags[at]!;
      if (bit === K_F) {
        if (tag !== V_STR) return -1; // a number :f the slow way
        f = cols.nums[at]!;
      } else if (bit === K_NODE) {
        if (tag === V_STR) node = cols.nums[at]!;
      } else if (bit === K_KEY) {
        if (tag === V_STR) key = cols.nums[at]!;
        else if (tag !== V_NULL) key = cols.strings.idOf(text(cols.valueAt(at)));
      } else if (bit === K_ERROR) {
        if (tag !== V_NULL) error = text(cols.valueAt(at));
      }
      cols.tapeLength = at;
    }
    while (p < end && SPACE[b[p]!] === 1) p++;
    c = p < end ? b[p]! : -1;
    if (c !== 10 && c !== -1) return -1;
    // What the op reader refuses goes the slow way, which says why.
    if (type < 0 || f < 0 || (seen & K_PROCESS) === 0) return -1;
    if (valueAt < 0) cols.cell(V_NULL, 0);
    const i = cols.add(type, process, f, line);
    cols.value[i] = tape0;
    if (key >= 0) cols.key[i] = key;
    cols.time[i] = time;
    if (node >= 0) cols.setNode(i, node);
    if (error !== undefined) cols.errors.set(i, error);
    this.index = index;
    return c === 10 ? p + 1 : p;
  }

  /** True when the token that ended at `p` really ends there, as the full reader sees it. */
  private endsAt(p: number): boolean {
    return p >= this.end || DELIM[this.b[p]!] === 1;
  }

  /**
   * The end of the keyword whose name starts at `s` (after its colon), when edn-scan.ts takes it (ASCII, not
   * empty, not `::auto`, not ending in ":" or "/"), with its hash in `num`; else -1.
   */
  private keywordEnd(s: number): number {
    const b = this.b;
    let p = s;
    let h = 0;
    while (p < this.end) {
      const c = b[p]!;
      if (c >= 128) return -1;
      if (DELIM[c] === 1) break;
      h = (Math.imul(h, 31) + c) | 0;
      p++;
    }
    if (p === s) return -1;
    const last = b[p - 1];
    if (b[s] === 58 || last === 58 || last === 47) return -1;
    this.num = h;
    return p;
  }

  /** A key other than the op's own (at its colon), the `k`th of the line: false when repeated or not ours. */
  private extraKey(k: number): boolean {
    if (k >= MAX_EXTRAS) return false;
    const s = this.p + 1;
    const e = this.keywordEnd(s);
    if (e < 0) return false;
    const b = this.b;
    const n = e - s;
    for (let j = 0; j < k; j++) {
      const from = this.extraFrom[j]!;
      if (this.extraTo[j]! - from !== n) continue;
      let i = 0;
      while (i < n && b[from + i] === b[s + i]) i++;
      if (i === n) return false; // the full reader names the duplicate
    }
    this.extraFrom[k] = s;
    this.extraTo[k] = e;
    this.p = e;
    return true;
  }

  /** `:nemesis` or `"nemesis"` at byte `c`: true (and past it), else false. */
  private nemesis(c: number): boolean {
    const b = this.b;
    const p = this.p + 1;
    return b[p] === 110 && b[p + 1] === 101 && b[p + 2] === 109 && b[p + 3] === 101 && b[p + 4] === 115 && b[p + 5] === 105 && b[p + 6] === 115 && this.wordEnds(c, p + 7);
  }

  /** A keyword (`c` ":") or string (`c` '"') whose name matched up to `e`: true when it ends there (then past it). */
  private wordEnds(c: number, e: number): boolean {
    if (c === 34) {
      if (e >= this.end || this.b[e] !== 34) return false;
      this.p = e + 1;
      return true;
    }
    if (e > this.end || !this.endsAt(e)) return false;
    this.p = e;
    return true;
  }

  /** The value starting with byte `c` (not whitespace) onto the tape: its position, or NO. */
  private value(c: number, depth: number): number {
    const cols = this.cols;
    if (c === 58) {
      const s = this.p + 1;
      const e = this.keywordEnd(s);
      if (e < 0) return NO;
      this.p = e;
      return cols.cell(V_STR, cols.strings.idOfAscii(this.b, s, e, this.num));
    }
    if (isDigit(c) || c === 45) return this.number() ? cols.cell(V_NUM, this.num) : NO;
    if (c === 91) return this.seq(93, depth);
    if (c === 40) return this.seq(41, depth);
    if (c === 34) return this.string();
    if (c === 110 || c === 116 || c === 102) return this.word();
    return NO;
  }

  /** nil, true or false (any other symbol is not ours). */
  private word(): number {
    const b = this.b;
    const p = this.p;
    let tag = V_NULL;
    let n = 0;
    if (b[p] === 110 && b[p + 1] === 105 && b[p + 2] === 108) n = 3;
    else if (b[p] === 116 && b[p + 1] === 114 && b[p + 2] === 117 && b[p + 3] === 101) (tag = V_TRUE), (n = 4);
    else if (b[p] === 102 && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101) (tag = V_FALSE), (n = 5);
    if (n === 0 || p + n > this.end || !this.endsAt(p + n)) return NO;
    this.p = p + n;
    return this.cols.cell(tag, 0);
  }

  /** A number as edn-scan.ts reads it (plain decimals read exactly; anything else is not ours) into `num`. */
  private number(): boolean {
    const q = ednNumberEnd(this.b, this.p, this.end);
    if (q < 0) return false;
    this.p = q;
    this.num = scannedNumber.value;
    return true;
  }

  private string(): number {
    const b = this.b;
    const s = this.p + 1;
    let p = s;
    let h = 0;
    for (;;) {
      if (p >= this.end) return NO;
      const c = b[p]!;
      if (c === 34) break;
      if (c === 92 || c === 10 || c >= 128) return NO;
      h = (Math.imul(h, 31) + c) | 0;
      p++;
    }
    this.p = p + 1;
    const cols = this.cols;
    return cols.cell(V_STR, cols.strings.idOfAscii(b, s, p, h));
  }

  /** A vector or list (at its opening bracket) up to `close`. */
  private seq(close: number, depth: number): number {
    if (depth >= MAX_DEPTH) return NO;
    const cols = this.cols;
    const b = this.b;
    const end = this.end;
    const at = cols.cell(V_ARR, 0);
    let p = this.p + 1;
    let n = 0;
    for (;;) {
      while (p < end && SPACE[b[p]!] === 1) p++;
      const c = p < end ? b[p]! : -1;
      if (c === close) break;
      if (c === -1 || c === 10 || c === 93 || c === 41 || c === 125) return NO;
      n++;
      // The common elements here: a plain non-negative integer of at most 15 digits (no leading zero), and nil.
      if (isDigit(c)) {
        const q = plainInteger(b, p, end);
        if (q >= 0) {
          cols.cell(V_NUM, parsed);
          p = q;
          continue;
        }
      } else if (c === 110 && b[p + 1] === 105 && b[p + 2] === 108 && (p + 3 >= end || DELIM[b[p + 3]!] === 1)) {
        if (p + 3 > end) return NO;
        cols.cell(V_NULL, 0);
        p += 3;
        continue;
      } else if (c === 45 && !(p + 1 < end && isDigit(b[p + 1]!))) return NO; // "-" starts a number only before a digit (else it is a symbol)
      this.p = p;
      if (this.value(c, depth + 1) < 0) return NO;
      p = this.p;
    }
    this.p = p + 1;
    cols.nums[at] = n;
    return at;
  }
}
