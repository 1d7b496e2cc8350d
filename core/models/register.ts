/**
 * Single-register models: `register` (read/write), `cas-register` (Knossos semantics) and
 * `etcd-register` (Porcupine's etcd semantics). States are canonical primitives (see `valueKey`).
 */
import { HistoryFormatError } from '../errors';
import type { PairedOp } from '../history/operation';
import { describeKey, valueKey, type Model, type SearchOp, type StateKey } from './model';

/** Which conventions a register follows. */
export type RegisterFlavour = 'register' | 'cas-register' | 'etcd-register';

function casArg(op: PairedOp): [StateKey, StateKey] {
  const v = op.invokeValue;
  if (!Array.isArray(v) || v.length !== 2) {
    throw new HistoryFormatError(`cas value must be [from, to], got ${JSON.stringify(v)}`);
  }
  return [valueKey(v[0]), valueKey(v[1])];
}

/** How a register reads an `ok` read of nil. */
export interface RegisterOptions {
  /**
   * Knossos's reading (`CASRegister`): an `ok` read of nil is an unknown value and constrains nothing.
   * By default an `ok` read of nil means the register held nil (its initial value, or the key was absent),
   * which is what the database answered; only a read whose outcome is unknown constrains nothing.
   */
  knossosNil?: boolean;
}

/**
 * A register.
 * - `cas-register`: read, write, cas; `fail` means the op did not happen, so failed ops are dropped. An `ok`
 *   read of nil observes nil (a lost write shows up so), unless `knossosNil`.
 * - `register`: the same without `cas`.
 * - `etcd-register` (Porcupine `etcdModel`): nil means the key is absent (the initial state), so a nil
 *   read is an observation; a failed cas observed a value other than `from`; a failed read (timed out)
 *   is dropped. `knossosNil` does not apply.
 * @param init - initial value; nil when omitted (the key is absent).
 */
export function registerModel(flavour: RegisterFlavour, init: unknown = null, options: RegisterOptions = {}): Model<StateKey> {
  const etcd = flavour === 'etcd-register';
  const nilIsUnknown = !etcd && options.knossosNil === true;
  return {
    name: flavour,
    init: () => valueKey(init),
    key: (s) => s,
    describe: describeKey,
    isReadOnly: (op) => op.f === 'read' || op.failed,
    prepare(op: PairedOp): SearchOp | null {
      switch (op.f) {
        case 'read':
          if (op.type !== 'ok') return null; // unknown or failed read: constrains nothing
          if (nilIsUnknown && (op.value === null || op.value === undefined)) return null; // Knossos: nil read = unknown
          return { f: 'read', arg: null, out: valueKey(op.value), known: true, failed: false };
        case 'write':
          if (op.type === 'fail') return null;
          return { f: 'write', arg: valueKey(op.invokeValue), out: null, known: op.type === 'ok', failed: false };
        case 'cas': {
          if (flavour === 'register') throw new HistoryFormatError('the register model has no cas (use cas-register)');
          const arg = casArg(op);
          if (op.type === 'fail') {
            return etcd ? { f: 'cas', arg, out: null, known: true, failed: true } : null;
          }
          return { f: 'cas', arg, out: null, known: op.type === 'ok', failed: false };
        }
        default:
          throw new HistoryFormatError(`the ${flavour} model has no operation "${op.f}" (expected read, write${flavour === 'register' ? '' : ', cas'})`);
      }
    },
    step(state: StateKey, op: SearchOp): StateKey | undefined {
      switch (op.f) {
        case 'read':
          return op.out === state ? state : undefined;
        case 'write':
          return op.arg as StateKey;
        default: {
          const [from, to] = op.arg as [StateKey, StateKey];
          if (op.failed) return from !== state ? state : undefined;
          // An unknown cas whose compare would fail is the same as one that never happened,
          // which the search already covers by not linearizing it.
          return from === state ? to : undefined;
        }
      }
    },
  };
}
