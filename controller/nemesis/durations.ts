/** Human durations for nemesis options: `60s`, `-5m`, `250ms`, `1.5h`; a bare number is seconds. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a signed duration into milliseconds.
 * @throws RangeError naming `what` when the text is not a duration.
 */
export function parseDurationMs(text: string, what: string): number {
  const m = /^\s*([+-]?)(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) throw new RangeError(`Cannot read ${what} "${text}": expected a duration such as 500ms, 60s, -5m or 1h`);
  const ms = Math.round(Number(m[2]) * UNIT_MS[m[3] ?? 's']!);
  return m[1] === '-' ? -ms : ms;
}

/** Like `parseDurationMs`, but the result must be > 0. */
export function parsePositiveDurationMs(text: string, what: string): number {
  const ms = parseDurationMs(text, what);
  if (ms <= 0) throw new RangeError(`Cannot use ${what} "${text}": it must be longer than zero`);
  return ms;
}

/** `60000` -> `+60s`, `-250` -> `-250ms`: how offsets are shown to people. */
export function formatOffsetMs(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const abs = Math.abs(ms);
  if (abs !== 0 && abs % 1000 !== 0) return `${sign}${abs}ms`;
  return `${sign}${abs / 1000}s`;
}

const RATE_UNIT: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9 };

/**
 * Parses a bandwidth as tc writes it: `500kbit`, `1mbit`, `1.5gbit` (bits per second), or `kbps`/`mbps` (bytes
 * per second, as in tc); a bare number is bits per second. Returns bits per second.
 * @throws RangeError naming `what` when the text is not a positive bandwidth.
 */
export function parseRateBitsPerSecond(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i.exec(text);
  const unit = RATE_UNIT[(m?.[2] ?? 'bit').toLowerCase()];
  if (!m || unit === undefined) throw new RangeError(`Cannot read ${what} "${text}": expected a bandwidth such as 500kbit, 1mbit or 1gbit`);
  const bits = Number(m[1]) * unit;
  if (bits < 8) throw new RangeError(`Cannot use ${what} "${text}": it must be at least 8 bit/s`);
  return bits;
}

/** `1000000` -> `1mbit`, `1500` -> `1.5kbit`. */
export function formatRate(bitsPerSecond: number): string {
  for (const [unit, f] of [['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) {
    if (bitsPerSecond >= f) return `${Number((bitsPerSecond / f).toFixed(3))}${unit}`;
  }
  return `${bitsPerSecond}bit`;
}
