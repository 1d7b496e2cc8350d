/**
 * The one seeded PRNG of faultline (splitmix32-style): generators, nemesis schedules, simulations, hash keys and
 * tests all draw from it, so that every generated run can be reproduced from its seed.
 */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0 || 0x9e3779b9;
  }

  /** The generator's whole state: `Random.fromState(r.state)` continues exactly where `r` stands. */
  get state(): number {
    return this.#state;
  }

  static fromState(state: number): Random {
    const r = new Random(1);
    r.#state = state >>> 0;
    return r;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let z = (this.#state = (this.#state + 0x9e3779b9) >>> 0);
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  }

  /** Uniform 32-bit integer (signed), e.g. for hash keys. */
  int32(): number {
    return Math.floor(this.next() * 4294967296) | 0;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Cannot pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** A new generator whose stream is independent of this one's, for a sub-component. */
  fork(salt: number): Random {
    return new Random((this.#state ^ Math.imul(salt + 1, 0x27d4eb2d)) >>> 0);
  }
}

/** A seeded uniform source in [0, 1), for code that takes `() => number` (grudges, simulations). */
export function seededUniform(seed: number): () => number {
  const r = new Random(seed);
  return () => r.next();
}
