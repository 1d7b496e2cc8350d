/** The `mutex` model (Knossos `Mutex`): acquire succeeds only when free, release only when held. */
import { HistoryFormatError } from '../errors';
import type { PairedOp } from '../history/operation';
import type { Model, SearchOp } from './model';

/** A lock, initially free. Failed ops did not happen; unknown ones may or may not have. */
export function mutexModel(initLocked = false): Model<boolean> {
  return {
    name: 'mutex',
    init: () => initLocked,
    key: (s) => s,
    describe: (s) => (s ? 'locked' : 'free'),
    isReadOnly: () => false,
    prepare(op: PairedOp): SearchOp | null {
      if (op.f !== 'acquire' && op.f !== 'release') {
        throw new HistoryFormatError(`the mutex model has no operation "${op.f}" (expected acquire, release)`);
      }
      if (op.type === 'fail') return null;
      return { f: op.f, arg: null, out: null, known: op.type === 'ok', failed: false };
    },
    step(locked: boolean, op: SearchOp): boolean | undefined {
      if (op.f === 'acquire') return locked ? undefined : true;
      return locked ? false : undefined;
    },
  };
}
