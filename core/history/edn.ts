/**
 * A small, strict EDN reader for Jepsen and Knossos histories (https://github.com/edn-format/edn).
 * Pure: takes text, returns values. Vectors and lists both become arrays; maps become `Map`s whose
 * keyword keys are interned, so `map.get(keyword('type'))` works.
 */
import { HistoryFormatError } from '../errors';

/** An EDN keyword (`:ok`, `:jepsen.history/x`). Interned: `keyword('ok') === keyword('ok')`. */
export class Keyword {
  /** Use {@link keyword}: the constructor is public only so `instanceof` works. */
  constructor(readonly name: string) {}
  toString(): string {
    return `:${this.name}`;
  }
  toJSON(): string {
    return this.name;
  }
}

/** An EDN symbol (`nil`, `true` and `false` are not symbols). Not interned. */
export class EdnSymbol {
  constructor(readonly name: string) {}
  toString(): string {
    return this.name;
  }
  toJSON(): string {
    return this.name;
  }
}

export type EdnValue =
  | null
  | boolean
  | number
  | string
  | Keyword
  | EdnSymbol
  | EdnValue[]
  | EdnMap
  | Set<EdnValue>;
export type EdnMap = Map<EdnValue, EdnValue>;

const keywords = new Map<string, Keyword>();

/** The interned keyword with this name (without the leading colon). */
export function keyword(name: string): Keyword {
  let k = keywords.get(name);
  if (k === undefined) {
    k = new Keyword(name);
    keywords.set(name, k);
  }
  return k;
}

const CHAR_NAMES: Record<string, string> = {
  newline: '\n',
  space: ' ',
  tab: '\t',
  return: '\r',
  backspace: '\b',
  formfeed: '\f',
};

/** Characters that end a token (symbol, number, keyword). */
function isDelimiter(c: number): boolean {
  // whitespace, comma, ( ) [ ] { } " ;
  return (
    c === 32 || c === 10 || c === 13 || c === 9 || c === 12 || c === 44 ||
    c === 40 || c === 41 || c === 91 || c === 93 || c === 123 || c === 125 || c === 34 || c === 59
  );
}

const INT_RE = /^[+-]?\d+N?$/;
const FLOAT_RE = /^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?M?$/;
const RATIO_RE = /^([+-]?\d+)\/(\d+)$/;

class Reader {
  pos = 0;
  line = 1;
  constructor(private readonly text: string) {}

  fail(detail: string, line = this.line): never {
    throw new HistoryFormatError(`invalid EDN: ${detail}`, line);
  }

  /** Skips whitespace, commas, comments and `#_` discards. Returns false at end of input. */
  skip(): boolean {
    const t = this.text;
    for (;;) {
      while (this.pos < t.length) {
        const c = t.charCodeAt(this.pos);
        if (c === 10) {
          this.line++;
          this.pos++;
        } else if (c === 32 || c === 44 || c === 9 || c === 13 || c === 12) {
          this.pos++;
        } else if (c === 59) {
          while (this.pos < t.length && t.charCodeAt(this.pos) !== 10) this.pos++;
        } else break;
      }
      if (this.pos >= t.length) return false;
      if (t.charCodeAt(this.pos) === 35 && t.charCodeAt(this.pos + 1) === 95) {
        // #_ discards the next form
        this.pos += 2;
        if (!this.skip()) this.fail('"#_" at end of input');
        this.read();
        continue;
      }
      return true;
    }
  }

  read(): EdnValue {
    if (!this.skip()) this.fail('unexpected end of input');
    const t = this.text;
    const c = t[this.pos]!;
    switch (c) {
      case '[':
      case '(': {
        const startLine = this.line;
        this.pos++;
        return this.readSeq(c === '[' ? ']' : ')', startLine);
      }
      case '{': {
        const startLine = this.line;
        this.pos++;
        const items = this.readSeq('}', startLine);
        if (items.length % 2 !== 0) this.fail('map literal has an odd number of forms', startLine);
        const m: EdnMap = new Map();
        for (let i = 0; i < items.length; i += 2) m.set(items[i]!, items[i + 1]!);
        return m;
      }
      case ']':
      case ')':
      case '}':
        return this.fail(`unmatched "${c}"`);
      case '"':
        return this.readString();
      case '\\':
        return this.readChar();
      case '#':
        return this.readDispatch();
      case ':': {
        this.pos++;
        const tok = this.readToken();
        if (tok === '') this.fail('empty keyword');
        return keyword(tok);
      }
      default:
        return this.readAtom(this.readToken());
    }
  }

  readSeq(close: string, startLine: number): EdnValue[] {
    const out: EdnValue[] = [];
    for (;;) {
      if (!this.skip()) this.fail(`"${close === ']' ? '[' : close === ')' ? '(' : '{'}" opened on line ${startLine} is never closed`, startLine);
      const c = this.text[this.pos]!;
      if (c === close) {
        this.pos++;
        return out;
      }
      if (c === ']' || c === ')' || c === '}') this.fail(`expected "${close}" but found "${c}"`);
      out.push(this.read());
    }
  }

  readToken(): string {
    const t = this.text;
    const start = this.pos;
    while (this.pos < t.length && !isDelimiter(t.charCodeAt(this.pos))) this.pos++;
    return t.slice(start, this.pos);
  }

  readAtom(tok: string): EdnValue {
    if (tok === '') this.fail(`unexpected character "${this.text[this.pos] ?? ''}"`);
    if (tok === 'nil') return null;
    if (tok === 'true') return true;
    if (tok === 'false') return false;
    const c0 = tok.charCodeAt(0);
    const digitStart = (c0 >= 48 && c0 <= 57) || ((c0 === 43 || c0 === 45) && tok.length > 1 && tok.charCodeAt(1) >= 48 && tok.charCodeAt(1) <= 57);
    if (digitStart) {
      if (INT_RE.test(tok)) return Number(tok.endsWith('N') ? tok.slice(0, -1) : tok);
      if (FLOAT_RE.test(tok)) return Number(tok.endsWith('M') ? tok.slice(0, -1) : tok);
      const r = RATIO_RE.exec(tok);
      if (r) return Number(r[1]) / Number(r[2]);
      this.fail(`invalid number "${tok}"`);
    }
    return new EdnSymbol(tok);
  }

  readString(): string {
    const t = this.text;
    const startLine = this.line;
    this.pos++; // opening quote
    let out = '';
    let chunk = this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail(`string opened on line ${startLine} is never closed`, startLine);
      const c = t.charCodeAt(this.pos);
      if (c === 34) {
        out += t.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c === 10) this.line++;
      if (c !== 92) {
        this.pos++;
        continue;
      }
      out += t.slice(chunk, this.pos);
      const e = t[this.pos + 1];
      this.pos += 2;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'u': {
          const hex = t.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(`invalid unicode escape "\\u${hex}"`);
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.fail(`invalid string escape "\\${e ?? ''}"`);
      }
      chunk = this.pos;
    }
  }

  readChar(): string {
    const t = this.text;
    this.pos++; // backslash
    if (this.pos >= t.length) this.fail('character literal at end of input');
    // A single delimiter char like \( or \space's first letter: take at least one char.
    const start = this.pos;
    this.pos++;
    while (this.pos < t.length && !isDelimiter(t.charCodeAt(this.pos))) this.pos++;
    const tok = t.slice(start, this.pos);
    if (tok.length === 1) return tok;
    const named = CHAR_NAMES[tok];
    if (named !== undefined) return named;
    if (/^u[0-9a-fA-F]{4}$/.test(tok)) return String.fromCharCode(parseInt(tok.slice(1), 16));
    return this.fail(`invalid character literal "\\${tok}"`);
  }

  readDispatch(): EdnValue {
    const t = this.text;
    const next = t[this.pos + 1];
    if (next === '{') {
      const startLine = this.line;
      this.pos += 2;
      return new Set(this.readSeq('}', startLine));
    }
    if (next === '#') {
      // ##Inf, ##-Inf, ##NaN
      this.pos += 2;
      const tok = this.readToken();
      if (tok === 'Inf') return Infinity;
      if (tok === '-Inf') return -Infinity;
      if (tok === 'NaN') return NaN;
      this.fail(`invalid symbolic value "##${tok}"`);
    }
    if (next === ':') {
      // namespaced map #:ns{:a 1} -> keys qualified with ns
      this.pos += 2;
      const ns = this.readToken();
      const m = this.read();
      if (!(m instanceof Map)) this.fail(`"#:${ns}" must be followed by a map`);
      const out: EdnMap = new Map();
      for (const [k, v] of m) {
        out.set(k instanceof Keyword && !k.name.includes('/') ? keyword(`${ns}/${k.name}`) : k, v);
      }
      return out;
    }
    // Tagged literal #inst "...", #uuid "...", #jepsen.history.Op{...}: read as the inner value.
    this.pos++;
    const tag = this.readToken();
    if (tag === '') this.fail('"#" must be followed by a tag, "{", "_" or "#"');
    return this.read();
  }
}

/**
 * Like {@link parseEdn}, but when the text is one top-level vector or list (Knossos's data files),
 * returns that collection's elements, each with the 1-based line it starts on.
 * @throws HistoryFormatError naming the line of the first malformed form.
 */
export function parseEdnElements(text: string): { value: EdnValue; line: number }[] {
  const r = new Reader(text);
  if (!r.skip()) return [];
  const c = text[r.pos];
  if (c !== '[' && c !== '(') return parseEdn(text);
  const close = c === '[' ? ']' : ')';
  const openLine = r.line;
  r.pos++;
  const out: { value: EdnValue; line: number }[] = [];
  for (;;) {
    if (!r.skip()) r.fail(`"${c}" opened on line ${openLine} is never closed`, openLine);
    const d = text[r.pos]!;
    if (d === close) {
      r.pos++;
      break;
    }
    const line = r.line;
    out.push({ value: r.read(), line });
  }
  if (r.skip()) {
    // More forms after the collection: treat the whole text as a sequence of top-level forms.
    return parseEdn(text);
  }
  return out;
}

/**
 * Reads every top-level form, each with the 1-based line it starts on.
 * @throws HistoryFormatError naming the line of the first malformed form.
 */
export function parseEdn(text: string): { value: EdnValue; line: number }[] {
  const r = new Reader(text);
  const out: { value: EdnValue; line: number }[] = [];
  while (r.skip()) {
    const line = r.line;
    out.push({ value: r.read(), line });
  }
  return out;
}
