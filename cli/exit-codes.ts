/** Exit codes follow Jepsen's. */
export const EXIT = {
  valid: 0,
  invalid: 1,
  unknown: 2,
  badInput: 254,
  internal: 255,
} as const;

export function exitCodeFor(valid: true | false | 'unknown'): number {
  return valid === true ? EXIT.valid : valid === false ? EXIT.invalid : EXIT.unknown;
}
