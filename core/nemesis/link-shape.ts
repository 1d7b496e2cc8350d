/**
 * What a shaped link does to packets: a bandwidth limit (tc htb) and netem's delay, jitter, duplication,
 * reordering and corruption. Zero or absent means "not this". Shared by the controller (which asks) and the agent
 * (which applies it, see agent/faults/shape.ts).
 */
export interface LinkShape {
  /** Bandwidth limit in bits per second. */
  rateBitsPerSecond?: number;
  delayMs?: number;
  /** ± around `delayMs` (netem jitter); needs `delayMs`. */
  jitterMs?: number;
  duplicatePercent?: number;
  /** Share of packets sent at once while the others wait `delayMs`; needs `delayMs`. */
  reorderPercent?: number;
  corruptPercent?: number;
}
