import type { TestContext } from 'node:test';

/** Something that takes cleanup callbacks the way TestContext.after does. */
export interface AfterHost {
  after(fn: () => unknown): void;
}

/**
 * Cleanup in reverse order of setup (node:test runs `t.after` hooks first-registered first, which would stop NATS
 * before the agents using it). Every callback runs even when an earlier one throws.
 */
export function lifo(t: TestContext): AfterHost {
  const stack: (() => unknown)[] = [];
  t.after(async () => {
    const errors: unknown[] = [];
    while (stack.length > 0) {
      try {
        await stack.pop()!();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return { after: (fn) => stack.push(fn) };
}
