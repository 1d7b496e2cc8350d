import type { Workload } from './workload';

/** Every account starts with this balance; the total is conserved by every transfer. */
export const BANK_INITIAL_BALANCE = 10;

/** The accounts of a bank with `n` accounts: a0 … a(n-1). */
export function bankAccounts(n: number): string[] {
  return [...Array(Math.max(2, n)).keys()].map((i) => `a${i}`);
}

/**
 * Jepsen's bank: transfers between accounts (`transfer`, value {from, to, amount}; a transfer that would make a
 * balance negative fails) and reads of every balance at once (`read`, ok value: {account: balance}). Every
 * account starts at BANK_INITIAL_BALANCE, so every read must sum to the same total. Checked by bank.
 */
export const bankWorkload: Workload = {
  name: 'bank',
  description: 'transfers between accounts and whole-balance reads; checked by bank (total conserved, no negative balance)',
  fs: ['transfer', 'read'],
  checkers: (ctx) => [{ name: 'bank', options: { total: bankAccounts(ctx.keyCount).length * BANK_INITIAL_BALANCE, accounts: bankAccounts(ctx.keyCount) } }],
  generator: (ctx, rng) => {
    const accounts = bankAccounts(ctx.keyCount);
    return {
      next: () => {
        if (rng.next() < 0.4) return { f: 'read', value: null };
        const from = rng.pick(accounts);
        let to = rng.pick(accounts);
        while (to === from) to = rng.pick(accounts);
        return { f: 'transfer', value: { from, to, amount: 1 + rng.int(5) } };
      },
      complete: () => undefined,
    };
  },
  finalGenerator: () => {
    let done = false;
    let tries = 0;
    return {
      next: () => (done ? undefined : { f: 'read', value: null }),
      complete: (_op, c) => {
        if (c.type === 'ok' || ++tries >= 20) done = true;
      },
    };
  },
};
