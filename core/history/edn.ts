/**
 * An EDN reader for Jepsen and Knossos histories that accepts what Clojure's reader accepts (Jepsen writes
 * histories with `pr`, and reads them back with Clojure's reader, not a strict EDN one): integers in every base
 * (`0x4892d85e`, `017`, `2r1010`, `N`), floats with `M`, ratios, characters, strings with octal escapes,
 * namespaced keywords and maps, sets, metadata (skipped), tagged literals, `#_` discards, quote and deref forms.
 *
 * Values come out as plain data, ready for the checkers: nil → null, keywords and symbols → their names as
 * strings (`:jepsen.history/x` → "jepsen.history/x"), vectors, lists and sets → arrays, maps → objects keyed
 * by name, characters → one-character strings. Integers beyond ±2^53 keep their exact Clojure text
 * ("18446744073709551615N"), so two different values never compare equal. A record literal
 * (`#jepsen.history.Op{...}`) is its map; any other tagged literal stays opaque as `{"#tag": value}`
 * (`#inst "2020-01-01"` → `{"#inst": "2020-01-01"}`).
 * Pure: takes text, returns values.
 */
import { HistoryFormatError } from '../errors';

/** Thrown (internally) when a form runs past the end of a chunk that is not the last one. */
export class NeedMoreInput extends Error {
  override readonly name = 'NeedMoreInput';
}

const MAX_DEPTH = 512;

/** Character classes, by char code: 1 = whitespace (commas included), 2 = terminating macro character. */
const CLASS = new Uint8Array(128);
for (const c of [' ', '\t', '\n', '\r', '\f', '\v', ',']) CLASS[c.charCodeAt(0)] = 1;
for (const c of ['"', ';', '@', '^', '`', '~', '(', ')', '[', ']', '{', '}', '\\']) CLASS[c.charCodeAt(0)] = 2;

/** True when char code `c` ends a token (whitespace, comma, or a terminating macro character). */
export function isDelimiterCode(c: number): boolean {
  return ends(c);
}

/** True when `c` ends a token (symbol, number, keyword, character name). */
function ends(c: number): boolean {
  return c < 128 ? CLASS[c]! !== 0 : c === 0x2028 || c === 0x2029 || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a);
}

const CHAR_NAMES: Record<string, string> = { newline: '\n', space: ' ', tab: '\t', return: '\r', backspace: '\b', formfeed: '\f' };

const INT_RE = /^([-+]?)(?:(0)|([1-9][0-9]*)|0[xX]([0-9A-Fa-f]+)|0([0-7]+)|([1-9][0-9]?)[rR]([0-9A-Za-z]+)|(0[0-9]+))(N)?$/;
const FLOAT_RE = /^[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?M?$/;
const RATIO_RE = /^([-+]?[0-9]+)\/([0-9]+)$/;

/** A Clojure integer as a plain value: a number when exact, else its decimal text with `N`. */
function exactInt(neg: boolean, digits: string, radix: number): number | string {
  if (digits.length <= (radix === 10 ? 15 : radix === 16 ? 12 : 8)) {
    const n = parseInt(digits, radix);
    return neg ? 0 - n : n;
  }
  let big = 0n;
  const r = BigInt(radix);
  for (let i = 0; i < digits.length; i++) big = big * r + BigInt(parseInt(digits[i]!, 36));
  if (neg) big = -big;
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : `${big}N`;
}

// Keyword names repeat on every line (:type :invoke :f :read): one interned string per name, found by a hash
// of its characters, so reading one allocates nothing and comparing it with a literal is a pointer compare.
const KEYWORD_SLOTS = 1024;
const keywordTable: (string | undefined)[] = new Array<string | undefined>(KEYWORD_SLOTS);
const keywordHash = (s: string): number => {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
};
for (const k of ['type', 'f', 'value', 'process', 'time', 'index', 'key', 'error', 'node', 'invoke', 'ok', 'fail', 'info', 'nemesis', 'read', 'write', 'cas', 'txn', 'r', 'w', 'append', 'add', 'get', 'put', 'enqueue', 'dequeue', 'drain', 'acquire', 'release', 'transfer', 'generate', 'timed-out', 'start', 'stop']) {
  keywordTable[keywordHash(k) & (KEYWORD_SLOTS - 1)] ??= k;
}

function internedKeyword(t: string, from: number, to: number, h: number): string {
  const slot = h & (KEYWORD_SLOTS - 1);
  const cand = keywordTable[slot];
  if (cand !== undefined && cand.length === to - from && t.startsWith(cand, from)) return cand;
  // A property key is an internalized string: the cheapest way to get one from a slice.
  const name = Object.keys({ [t.slice(from, to)]: 0 })[0]!;
  if (cand === undefined || to - from <= 24) keywordTable[slot] = name;
  return name;
}

/** Sets `o[k] = v` without ever touching the prototype (a key may be named `__proto__`). */
export function setField(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** The name a plain value takes as an object key: strings as they are, anything else as JSON. */
export function keyOf(k: unknown): string {
  return typeof k === 'string' ? k : (JSON.stringify(k) ?? String(k));
}

/**
 * A reader over one string. `final` false means more text may follow: a form that runs past the end throws
 * {@link NeedMoreInput} instead of a format error, so the caller can retry it with more text.
 */
export class EdnReader {
  pos = 0;
  line = 1;
  private depth = 0;
  private readonly stack: unknown[] = [];
  constructor(
    readonly text: string,
    readonly final = true,
    firstLine = 1,
  ) {
    this.line = firstLine;
  }

  fail(detail: string, line = this.line): never {
    throw new HistoryFormatError(`invalid EDN: ${detail}`, line);
  }

  /** Runs past the end of the text: a format error in the last chunk, else a request for more input. */
  eof(detail: string, line = this.line): never {
    if (!this.final) throw new NeedMoreInput(detail);
    return this.fail(detail, line);
  }

  /** Skips whitespace, commas, `;` and `#!` comments and `#_` discards. Returns false at end of input. */
  skip(): boolean {
    const t = this.text;
    const n = t.length;
    for (;;) {
      let p = this.pos;
      while (p < n) {
        const c = t.charCodeAt(p);
        if (c === 10) {
          this.line++;
          p++;
        } else if (c === 32 || c === 44 || c === 9 || c === 13 || c === 12 || c === 11) {
          p++;
        } else if (c === 59 || (c === 35 && t.charCodeAt(p + 1) === 33)) {
          while (p < n && t.charCodeAt(p) !== 10) p++;
          if (p >= n && !this.final) this.eof('a comment at the end of a chunk');
        } else if (c > 127 && ends(c)) {
          p++;
        } else break;
      }
      this.pos = p;
      if (p >= n) return false;
      if (t.charCodeAt(p) === 35 && t.charCodeAt(p + 1) === 95) {
        this.pos += 2;
        if (!this.skip()) this.eof('"#_" at end of input');
        this.read();
        continue;
      }
      return true;
    }
  }

  /** Reads the next form as a plain value. */
  read(): unknown {
    if (!this.skip()) this.eof('unexpected end of input');
    const t = this.text;
    const c = t.charCodeAt(this.pos);
    switch (c) {
      case 91: // [
      case 40: // (
        this.pos++;
        return this.readSeq(c === 91 ? 93 : 41, this.line);
      case 123: // {
        this.pos++;
        return this.readMap(this.line, undefined);
      case 93:
      case 41:
      case 125:
        return this.fail(`unmatched "${t[this.pos]!}"`);
      case 34: // "
        return this.readString();
      case 92: // \
        return this.readChar();
      case 35: // #
        return this.readDispatch();
      case 58: // :
        return this.readKeyword();
      case 39: // ' quote
      case 64: // @ deref
      case 96: // ` syntax quote
        this.pos++;
        return this.readInner('a quoted form');
      case 126: // ~ unquote, ~@ unquote-splicing
        this.pos += t.charCodeAt(this.pos + 1) === 64 ? 2 : 1;
        return this.readInner('an unquoted form');
      case 94: // ^ metadata: read and drop it, keep the form it annotates
        this.pos++;
        this.readInner('metadata');
        return this.readInner('the form the metadata annotates');
      default:
        if ((c >= 48 && c <= 57) || ((c === 45 || c === 43) && isDigit(t.charCodeAt(this.pos + 1)))) return this.readNumber();
        return this.readSymbol();
    }
  }

  private readInner(what: string): unknown {
    if (!this.skip()) this.eof(`expected ${what}, found the end of input`);
    return this.read();
  }

  private enter(line: number): void {
    if (++this.depth > MAX_DEPTH) this.fail(`forms nested deeper than ${MAX_DEPTH}`, line);
  }

  /** The elements up to `close` (after the opening bracket). */
  readSeq(close: number, startLine: number): unknown[] {
    this.enter(startLine);
    // Elements collect on a shared stack and leave it as an exactly sized array: a vector of two must not keep
    // the 16 slots a pushed-to array grows to (a history holds hundreds of thousands of them).
    const stack = this.stack;
    const base = stack.length;
    const t = this.text;
    try {
      for (;;) {
        if (!this.skip()) this.eof(`"${close === 93 ? '[' : close === 41 ? '(' : '{'}" opened on line ${startLine} is never closed`, startLine);
        const c = t.charCodeAt(this.pos);
        if (c === close) {
          this.pos++;
          this.depth--;
          return stack.slice(base);
        }
        if (c === 93 || c === 41 || c === 125) this.fail(`expected "${String.fromCharCode(close)}" to close the form opened on line ${startLine} but found "${t[this.pos]!}"`);
        stack.push(this.read());
      }
    } finally {
      stack.length = base;
    }
  }

  /** A map's entries up to `}` (after the `{`); `ns` qualifies unqualified keyword keys (`#:ns{...}`). */
  readMap(startLine: number, ns: string | undefined): Record<string, unknown> {
    this.enter(startLine);
    const o: Record<string, unknown> = {};
    const t = this.text;
    for (;;) {
      if (!this.skip()) this.eof(`"{" opened on line ${startLine} is never closed`, startLine);
      const c = t.charCodeAt(this.pos);
      if (c === 125) {
        this.pos++;
        this.depth--;
        return o;
      }
      if (c === 93 || c === 41) this.fail(`expected "}" to close the map opened on line ${startLine} but found "${t[this.pos]!}"`);
      const keyLine = this.line;
      const wasKeyword = c === 58;
      let k = keyOf(this.read());
      if (ns !== undefined && wasKeyword && !k.includes('/')) k = `${ns}/${k}`;
      if (!this.skip()) this.eof(`"{" opened on line ${startLine} is never closed`, startLine);
      if (t.charCodeAt(this.pos) === 125) this.fail(`map literal opened on line ${startLine} has an odd number of forms`, startLine);
      if (Object.prototype.hasOwnProperty.call(o, k)) this.fail(`duplicate key ${JSON.stringify(k)} in a map`, keyLine);
      setField(o, k, this.read());
    }
  }

  readKeyword(): string {
    const t = this.text;
    let p = ++this.pos;
    if (t.charCodeAt(p) === 58) p = ++this.pos; // ::auto-resolved: kept by its name
    let h = 0;
    for (;;) {
      if (p >= t.length) break;
      const c = t.charCodeAt(p);
      if (c < 128 ? CLASS[c]! !== 0 : ends(c)) break;
      h = (Math.imul(h, 31) + c) | 0;
      p++;
    }
    if (p >= t.length && !this.final) this.eof('a keyword at the end of a chunk');
    if (p === this.pos) this.fail('a keyword needs a name after ":"');
    const name = internedKeyword(t, this.pos, p, h);
    this.pos = p;
    if (name.endsWith(':') || name.endsWith('/') && name !== '/') this.fail(`invalid keyword ":${name}"`);
    return name;
  }

  private token(): string {
    const t = this.text;
    const start = this.pos;
    let p = start;
    while (p < t.length && !ends(t.charCodeAt(p))) p++;
    if (p >= t.length && !this.final) this.eof('a token at the end of a chunk');
    this.pos = p;
    return t.slice(start, p);
  }

  readSymbol(): unknown {
    const tok = this.token();
    if (tok === '') this.fail(`unexpected character "${this.text[this.pos] ?? ''}"`);
    if (tok === 'nil') return null;
    if (tok === 'true') return true;
    if (tok === 'false') return false;
    return tok;
  }

  readNumber(): number | string {
    const t = this.text;
    const start = this.pos;
    // Fast path: a plain decimal integer that ends at a delimiter.
    let p = start;
    const neg = t.charCodeAt(p) === 45;
    if (neg || t.charCodeAt(p) === 43) p++;
    const d0 = p;
    let n = 0;
    while (p < t.length) {
      const c = t.charCodeAt(p);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      p++;
    }
    if (p >= t.length && !this.final) this.eof('a number at the end of a chunk');
    if ((p >= t.length || ends(t.charCodeAt(p))) && p - d0 <= 15 && (p - d0 === 1 || t.charCodeAt(d0) !== 48)) {
      this.pos = p;
      return neg ? 0 - n : n;
    }
    const tok = this.token();
    const m = INT_RE.exec(tok);
    if (m) {
      if (m[8] !== undefined) this.fail(`invalid number "${tok}" (a leading 0 means octal)`);
      const sign = m[1] === '-';
      if (m[2] !== undefined) return 0;
      if (m[3] !== undefined) return exactInt(sign, m[3], 10);
      if (m[4] !== undefined) return exactInt(sign, m[4], 16);
      if (m[5] !== undefined) return exactInt(sign, m[5], 8);
      const radix = Number(m[6]);
      const digits = m[7]!;
      if (radix < 2 || radix > 36 || [...digits].some((ch) => parseInt(ch, 36) >= radix)) this.fail(`invalid number "${tok}" (digits out of range for radix ${radix})`);
      return exactInt(sign, digits.toLowerCase(), radix);
    }
    if (FLOAT_RE.test(tok)) return Number(tok.endsWith('M') ? tok.slice(0, -1) : tok);
    const r = RATIO_RE.exec(tok);
    if (r) {
      const den = Number(r[2]);
      if (den === 0) this.fail(`invalid number "${tok}" (divide by zero)`);
      return Number(r[1]) / den;
    }
    return this.fail(`invalid number "${tok}"`);
  }

  readString(): string {
    const t = this.text;
    const startLine = this.line;
    let p = ++this.pos;
    let out = '';
    let chunk = p;
    for (;;) {
      if (p >= t.length) {
        this.pos = p;
        this.eof(`string opened on line ${startLine} is never closed`, startLine);
      }
      const c = t.charCodeAt(p);
      if (c === 34) {
        this.pos = p + 1;
        return out + t.slice(chunk, p);
      }
      if (c !== 92) {
        if (c === 10) this.line++;
        p++;
        continue;
      }
      out += t.slice(chunk, p);
      const e = t[p + 1];
      p += 2;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'u': {
          const hex = t.slice(p, p + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            if (p + 4 > t.length) this.eof(`string opened on line ${startLine} is never closed`, startLine);
            this.fail(`invalid unicode escape "\\u${hex}" in a string`);
          }
          out += String.fromCharCode(parseInt(hex, 16));
          p += 4;
          break;
        }
        case undefined:
          this.pos = p;
          return this.eof(`string opened on line ${startLine} is never closed`, startLine);
        default: {
          const oct = /^[0-7]{1,3}/.exec(t.slice(p - 1, p + 2));
          if (!oct) this.fail(`invalid string escape "\\${e}"`);
          const v = parseInt(oct[0], 8);
          if (v > 0o377) this.fail(`invalid octal escape "\\${oct[0]}" (at most \\377)`);
          out += String.fromCharCode(v);
          p += oct[0].length - 1;
        }
      }
      chunk = p;
    }
  }

  readChar(): string {
    const t = this.text;
    this.pos++; // backslash
    if (this.pos >= t.length) this.eof('character literal at end of input');
    const start = this.pos;
    this.pos++; // the first character is always part of the literal, even a delimiter: \( \space
    while (this.pos < t.length && !ends(t.charCodeAt(this.pos))) this.pos++;
    if (this.pos >= t.length && !this.final) this.eof('a character at the end of a chunk');
    const tok = t.slice(start, this.pos);
    if (tok.length === 1) return tok;
    const named = CHAR_NAMES[tok];
    if (named !== undefined) return named;
    if (/^u[0-9a-fA-F]{4}$/.test(tok)) return String.fromCharCode(parseInt(tok.slice(1), 16));
    if (/^o[0-7]{1,3}$/.test(tok) && parseInt(tok.slice(1), 8) <= 0o377) return String.fromCharCode(parseInt(tok.slice(1), 8));
    // A surrogate pair is one character.
    if (tok.length === 2 && tok.charCodeAt(0) >= 0xd800 && tok.charCodeAt(0) <= 0xdbff) return tok;
    return this.fail(`invalid character literal "\\${tok}"`);
  }

  readDispatch(): unknown {
    const t = this.text;
    const startLine = this.line;
    const next = t[this.pos + 1];
    switch (next) {
      case '{':
        this.pos += 2;
        return this.readSet(startLine);
      case '#': {
        this.pos += 2;
        const tok = this.token();
        if (tok === 'Inf') return Infinity;
        if (tok === '-Inf') return -Infinity;
        if (tok === 'NaN') return NaN;
        return this.fail(`invalid symbolic value "##${tok}" (expected ##Inf, ##-Inf or ##NaN)`);
      }
      case ':': {
        // Namespaced map #:ns{:a 1} (or #::{...}, auto-resolved, kept unqualified).
        this.pos += 2;
        const ns = t[this.pos] === ':' ? (this.pos++, '') : this.token();
        if (!this.skip()) this.eof(`"#:${ns}" at end of input`);
        if (t.charCodeAt(this.pos) !== 123) this.fail(`"#:${ns}" must be followed by a map`);
        this.pos++;
        return this.readMap(startLine, ns === '' ? undefined : ns);
      }
      case '"': {
        // #"regex": its source text, escapes kept as written.
        this.pos++;
        const start = this.pos + 1;
        let p = start;
        while (p < t.length && t.charCodeAt(p) !== 34) {
          if (t.charCodeAt(p) === 92) p++;
          else if (t.charCodeAt(p) === 10) this.line++;
          p++;
        }
        if (p >= t.length) this.eof(`regex opened on line ${startLine} is never closed`, startLine);
        this.pos = p + 1;
        return t.slice(start, p);
      }
      case "'": // #'var
        this.pos += 2;
        return this.readInner('a var name');
      case '(': // #(fn ...): its body as a list
        this.pos += 1;
        return this.read();
      case '?':
        return this.fail('reader conditionals (#?) are not allowed outside .cljc files');
      case '=':
        return this.fail('"#=" (read-time evaluation) is not allowed');
      case '<':
        return this.fail('unreadable form "#<...>"');
      case undefined:
        return this.eof('"#" at end of input');
      default: {
        this.pos++;
        const tag = this.token();
        if (tag === '') this.fail(`"#" must be followed by a tag, "{", "_", "#", ":", "\\"" or "'", found "${next}"`);
        if (!this.skip()) this.eof(`tagged literal "#${tag}" has no value`);
        const value = this.read();
        // A record literal (#jepsen.history.Op{...}) is its map; anything else is opaque data.
        if (tag.includes('.') && value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
        const o: Record<string, unknown> = {};
        setField(o, `#${tag}`, value);
        return o;
      }
    }
  }

  private readSet(startLine: number): unknown[] {
    const items = this.readSeq(125, startLine);
    const seen = new Set<string>();
    for (const x of items) {
      const k = typeof x === 'string' ? `s${x}` : `j${JSON.stringify(x)}`;
      if (seen.has(k)) this.fail(`duplicate element ${JSON.stringify(x)} in a set`, startLine);
      seen.add(k);
    }
    return items;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Reads every top-level form, each with the 1-based line it starts on.
 * @throws HistoryFormatError naming the line of the first malformed form.
 */
export function parseEdn(text: string): { value: unknown; line: number }[] {
  const r = new EdnReader(text);
  const out: { value: unknown; line: number }[] = [];
  while (r.skip()) {
    const line = r.line;
    out.push({ value: r.read(), line });
  }
  return out;
}

/**
 * Like {@link parseEdn}, but when the text is one top-level vector or list (Knossos's data files), returns that
 * collection's elements, each with the 1-based line it starts on.
 * @throws HistoryFormatError naming the line of the first malformed form.
 */
export function parseEdnElements(text: string): { value: unknown; line: number }[] {
  const out: { value: unknown; line: number }[] = [];
  readEdnHistoryForms([text], (value, line) => out.push({ value, line }));
  return out;
}

/**
 * Streams the forms of an EDN history given as chunks of text (each chunk may end anywhere): either a sequence of
 * top-level forms, or one top-level vector or list whose elements are the forms. Calls `onForm` for each, in order.
 * `readForm`, when given, reads a form in place of the generic reader (the op-map fast path); it must leave the
 * reader after the form and may throw {@link NeedMoreInput} like the reader does. `from` resumes a history another
 * reader began: the text starts on line `from.line`, and `from.started` says whether a top-level form came before
 * (then the history is not one vector), `from.outer` whether that was the opening bracket of the vector or list
 * holding the history (its closing character and line), whose elements the text goes on with.
 * @throws HistoryFormatError naming the line of the first malformed form.
 */
export function readEdnHistoryForms(
  chunks: Iterable<string>,
  onForm: (value: unknown, line: number) => void,
  readForm?: (r: EdnReader) => unknown,
  from?: { line: number; started: boolean; outer?: { close: number; line: number } },
): void {
  const it = chunks[Symbol.iterator]();
  let text = '';
  let line = from?.line ?? 1;
  let done = false;
  let outer = from?.outer;
  let started = from?.started ?? false; // whether the first form has been seen
  let closed = false;
  const pull = (): boolean => {
    const n = it.next();
    if (n.done) {
      done = true;
      return false;
    }
    text += n.value;
    return true;
  };
  pull();
  for (;;) {
    const r = new EdnReader(text, done, line);
    let consumed = 0;
    let consumedLine = line;
    try {
      for (;;) {
        if (!r.skip()) {
          consumed = r.pos;
          consumedLine = r.line;
          if (!done) throw new NeedMoreInput('more forms may follow');
          break;
        }
        const c = text.charCodeAt(r.pos);
        if (!started) {
          started = true;
          if (c === 91 || c === 40) {
            outer = { close: c === 91 ? 93 : 41, line: r.line };
            r.pos++;
            consumed = r.pos;
            consumedLine = r.line;
            continue;
          }
        }
        if (closed) r.fail(`expected the end of input after the history ${outer!.close === 93 ? 'vector' : 'list'} closed`);
        if (outer && c === outer.close) {
          r.pos++;
          closed = true;
          consumed = r.pos;
          consumedLine = r.line;
          continue;
        }
        const formLine = r.line;
        const value = readForm ? readForm(r) : r.read();
        onForm(value, formLine);
        consumed = r.pos;
        consumedLine = r.line;
      }
    } catch (err) {
      if (!(err instanceof NeedMoreInput)) throw err;
      text = text.slice(consumed);
      line = consumedLine;
      pull();
      continue;
    }
    if (outer && !closed) r.fail(`"${outer.close === 93 ? '[' : '('}" opened on line ${outer.line} is never closed`, outer.line);
    return;
  }
}
