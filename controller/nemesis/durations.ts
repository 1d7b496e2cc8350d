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
