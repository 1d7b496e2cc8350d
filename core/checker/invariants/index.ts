/** Jepsen's invariant checkers: set-full, counter, bank, total-queue, unique-ids, and their composition. */
export { checkBank, type BankOptions, type BankResult } from './bank';
export { compose, type ComposedResult } from './compose';
export { checkCounter, type CounterResult } from './counter';
export { mergeValidity, type InvariantChecker, type InvariantResult } from './result';
export { checkSetFull, type SetFullOptions, type SetFullResult } from './set-full';
export { checkTotalQueue, type TotalQueueResult } from './total-queue';
export { checkUniqueIds, type UniqueIdsResult } from './unique-ids';
export { hasKeys, splitByKey } from './by-key';
