/**
 * Byte-level pieces the op-line scanners share (edn-scan.ts and edn-columns.ts for EDN, jsonl-scan.ts and
 * jsonl-columns.ts for JSON lines): the op's field names, its type names and JSON numbers, read from a file's
 * bytes. Each scanner decides what may follow (a delimiter, a quote) and what it does with what was read. Pure.
 */
import { T_FAIL, T_INFO, T_INVOKE, T_OK } from './columns';
import { isDelimiterCode } from './edn';

/** 1 for the bytes that end an EDN token (whitespace, commas, terminating macro characters; no byte past ASCII). */
export const EDN_DELIM = new Uint8Array(256);
for (let c = 0; c < 128; c++) EDN_DELIM[c] = isDelimiterCode(c) ? 1 : 0;

/** EDN op-map fields, as bits (to catch a repeated one). */
export const K_TYPE = 1;
export const K_PROCESS = 2;
export const K_F = 4;
export const K_VALUE = 8;
export const K_TIME = 16;
export const K_INDEX = 32;
export const K_KEY = 64;
export const K_ERROR = 128;
export const K_NODE = 256;
/** ednFieldAt's answer: the field's bit, and the length of its name above FIELD_LENGTH_SHIFT. */
export const FIELD_BITS_MASK = 511;
export const FIELD_LENGTH_SHIFT = 9;

/**
 * The op field whose name starts at `s` (an EDN keyword's name, after its colon), when its bytes spell one:
 * bit | (name length << FIELD_LENGTH_SHIFT); else 0. What ends the name is the caller's to check.
 */
export function ednFieldAt(b: Uint8Array, s: number): number {
  switch (b[s]) {
    case 116: // t
      if (b[s + 1] === 121 && b[s + 2] === 112 && b[s + 3] === 101) return K_TYPE | (4 << FIELD_LENGTH_SHIFT);
      if (b[s + 1] === 105 && b[s + 2] === 109 && b[s + 3] === 101) return K_TIME | (4 << FIELD_LENGTH_SHIFT);
      return 0;
    case 102: // f
      return K_F | (1 << FIELD_LENGTH_SHIFT);
    case 118: // v
      return b[s + 1] === 97 && b[s + 2] === 108 && b[s + 3] === 117 && b[s + 4] === 101 ? K_VALUE | (5 << FIELD_LENGTH_SHIFT) : 0;
    case 112: // p
      return b[s + 1] === 114 && b[s + 2] === 111 && b[s + 3] === 99 && b[s + 4] === 101 && b[s + 5] === 115 && b[s + 6] === 115 ? K_PROCESS | (7 << FIELD_LENGTH_SHIFT) : 0;
    case 105: // i
      return b[s + 1] === 110 && b[s + 2] === 100 && b[s + 3] === 101 && b[s + 4] === 120 ? K_INDEX | (5 << FIELD_LENGTH_SHIFT) : 0;
    case 107: // k
      return b[s + 1] === 101 && b[s + 2] === 121 ? K_KEY | (3 << FIELD_LENGTH_SHIFT) : 0;
    case 101: // e
      return b[s + 1] === 114 && b[s + 2] === 114 && b[s + 3] === 111 && b[s + 4] === 114 ? K_ERROR | (5 << FIELD_LENGTH_SHIFT) : 0;
    case 110: // n
      return b[s + 1] === 111 && b[s + 2] === 100 && b[s + 3] === 101 ? K_NODE | (4 << FIELD_LENGTH_SHIFT) : 0;
    default:
      return 0;
  }
}

/**
 * The op type whose name starts at `s` (invoke, ok, fail, info), when its bytes spell one: T_* | (name length
 * << 2); else -1. What ends the name is the caller's to check.
 */
export function opTypeAt(b: Uint8Array, s: number): number {
  switch (b[s]) {
    case 105: // invoke, info
      if (b[s + 1] === 110 && b[s + 2] === 118 && b[s + 3] === 111 && b[s + 4] === 107 && b[s + 5] === 101) return T_INVOKE | (6 << 2);
      if (b[s + 1] === 110 && b[s + 2] === 102 && b[s + 3] === 111) return T_INFO | (4 << 2);
      return -1;
    case 111: // ok
      return b[s + 1] === 107 ? T_OK | (2 << 2) : -1;
    case 102: // fail
      return b[s + 1] === 97 && b[s + 2] === 105 && b[s + 3] === 108 ? T_FAIL | (4 << 2) : -1;
    default:
      return -1;
  }
}

/** 10^k for k = 0…22: exactly representable, so `m / 10^k` is the correctly rounded value of m·10^-k. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The number the last jsonNumberEnd or ednNumberEnd read (a slot, so that reading one allocates nothing). */
export const scannedNumber = { value: 0 };

/**
 * Reads the JSON number at `start` (bytes up to `end`) into `scannedNumber.value`, as JSON.parse reads it (it may
 * be ±Infinity past the doubles); returns the position after it, or -1 when there is no JSON number there.
 */
export function jsonNumberEnd(b: Uint8Array, start: number, end: number): number {
  let p = start;
  const neg = b[p] === 45;
  if (neg) p++;
  if (p >= end || !isDigit(b[p]!)) return -1;
  let m = 0;
  if (b[p] === 48) {
    p++;
    if (p < end && isDigit(b[p]!)) return -1; // a leading zero: not JSON
  } else {
    while (p < end && isDigit(b[p]!)) m = m * 10 + (b[p++]! - 48);
  }
  let scale = 0;
  if (p < end && b[p] === 46) {
    p++;
    const d0 = p;
    while (p < end && isDigit(b[p]!)) m = m * 10 + (b[p++]! - 48);
    if (p === d0) return -1;
    scale = p - d0;
  }
  if (p < end && (b[p] === 101 || b[p] === 69)) {
    // An exponent: the text, as JSON.parse reads it.
    p++;
    if (p < end && (b[p] === 43 || b[p] === 45)) p++;
    const e0 = p;
    while (p < end && isDigit(b[p]!)) p++;
    if (p === e0) return -1;
    scannedNumber.value = Number(latin1(b, start, p));
    return p;
  }
  // Exact while every digit fits in 53 bits; then one correctly rounded division, as JSON.parse rounds.
  if (m > Number.MAX_SAFE_INTEGER || scale > 22) scannedNumber.value = Number(latin1(b, start, p));
  else {
    const v = scale === 0 ? m : m / POW10[scale]!;
    scannedNumber.value = neg ? -v : v;
  }
  return p;
}

/**
 * Reads the EDN number at `start` (bytes up to `end`) into `scannedNumber.value`, when it is one the op-line fast
 * paths take: a plain decimal integer of at most 15 digits without a leading zero, or digits "." digits read
 * exactly, ending where the full reader's token ends. Returns the position after it, or -1 for any other
 * (the full reader reads those: other bases, N and M, ratios, exponents).
 */
export function ednNumberEnd(b: Uint8Array, start: number, end: number): number {
  let p = start;
  const neg = b[p] === 45;
  if (neg) p++;
  const d0 = p;
  let m = 0;
  let d = 0;
  while (p < end && (d = b[p]! - 48) >= 0 && d <= 9) {
    m = m * 10 + d;
    p++;
  }
  const digits = p - d0;
  if (digits === 0) return -1;
  if (p < end && b[p] === 46) {
    // A float: digits "." digits (no exponent, no M), read as Number reads it.
    p++;
    const f0 = p;
    while (p < end && (d = b[p]! - 48) >= 0 && d <= 9) {
      m = m * 10 + d;
      p++;
    }
    const scale = p - f0;
    if ((p < end && EDN_DELIM[b[p]!] === 0) || m > Number.MAX_SAFE_INTEGER || scale > 22) return -1;
    const v = m / POW10[scale]!;
    scannedNumber.value = neg ? -v : v;
    return p;
  }
  // An integer as the reader's own fast path takes it: at most 15 digits, no leading zero.
  if ((p < end && EDN_DELIM[b[p]!] === 0) || digits > 15 || (digits > 1 && b[d0] === 48)) return -1;
  scannedNumber.value = neg ? 0 - m : m;
  return p;
}

function latin1(b: Uint8Array, from: number, to: number): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1', from, to);
}
