/**
 * Tracks which sequence numbers arrived from each publisher, in memory proportional to what is out of order,
 * so that a complete history can be proven (no gap from 1 to the last sequence) and duplicates dropped.
 */
export class SequenceTracker {
  #watermark = new Map<string, number>();
  #ahead = new Map<string, Set<number>>();

  /** Records `seq` from `node`; returns false when it was already seen (a redelivery). */
  add(node: string, seq: number): boolean {
    const w = this.#watermark.get(node) ?? 0;
    if (seq <= w) return false;
    let ahead = this.#ahead.get(node);
    if (!ahead) this.#ahead.set(node, (ahead = new Set()));
    if (ahead.has(seq)) return false;
    ahead.add(seq);
    let next = w;
    while (ahead.delete(next + 1)) next++;
    this.#watermark.set(node, next);
    return true;
  }

  /** Highest sequence number that arrived from `node` (0 when none). */
  maxSeen(node: string): number {
    let max = this.contiguous(node);
    for (const s of this.#ahead.get(node) ?? []) if (s > max) max = s;
    return max;
  }

  /** Highest n such that 1..n all arrived. */
  contiguous(node: string): number {
    return this.#watermark.get(node) ?? 0;
  }

  /** Missing sequence numbers of `node` up to `last`, as ranges. */
  gaps(node: string, last: number): { from: number; to: number }[] {
    const out: { from: number; to: number }[] = [];
    const ahead = this.#ahead.get(node) ?? new Set<number>();
    let start: number | undefined;
    for (let s = this.contiguous(node) + 1; s <= last; s++) {
      const missing = !ahead.has(s);
      if (missing && start === undefined) start = s;
      if (!missing && start !== undefined) {
        out.push({ from: start, to: s - 1 });
        start = undefined;
      }
    }
    if (start !== undefined) out.push({ from: start, to: last });
    return out;
  }

  nodes(): string[] {
    return [...new Set([...this.#watermark.keys(), ...this.#ahead.keys()])];
  }
}
