/**
 * Checker lag (ms from an op's completion to a checker having judged it), in bounded memory: the exact count and
 * maximum, and quantiles from a ring of the latest samples.
 */
export interface LagSummary {
  count: number;
  medianMs: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

const RING = 20_000;

export class LagStats {
  #ring = new Float64Array(RING);
  #count = 0;
  #max = -Infinity;

  add(ms: number): void {
    this.#ring[this.#count % RING] = ms;
    this.#count++;
    if (ms > this.#max) this.#max = ms;
  }

  summary(): LagSummary {
    if (this.#count === 0) return { count: 0, medianMs: null, p99Ms: null, maxMs: null };
    const xs = Array.from(this.#ring.subarray(0, Math.min(this.#count, RING))).sort((a, b) => a - b);
    const q = (p: number): number => Math.round(xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!);
    return { count: this.#count, medianMs: q(0.5), p99Ms: q(0.99), maxMs: Math.round(this.#max) };
  }
}
