/** Model lookup by name: the models `faultline check --model` accepts for the linearizability search. */
import { UsageError } from '../errors';
import { kvModel, multiRegisterModel } from './kv';
import type { Model } from './model';
import { mutexModel } from './mutex';
import { queueModel } from './queue';
import { registerModel, type RegisterOptions } from './register';
import { setModel } from './set';

export type { Model, SearchOp, StateKey } from './model';
export type { RegisterOptions } from './register';

/** Options that change how a model reads observations. */
export type ModelOptions = RegisterOptions;

export const MODEL_NAMES = ['register', 'cas-register', 'etcd-register', 'kv', 'multi-register', 'mutex', 'set', 'fifo-queue', 'unordered-queue'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/**
 * A fresh model instance (models may cache decoded states, so use one per search).
 * @param init - initial state in plain JSON; each model documents its default.
 * @param options - `knossosNil`: register and cas-register read an `ok` nil read as Knossos does (constrains nothing).
 * @throws UsageError for an unknown name or an init that does not fit the model.
 */
export function createModel(name: ModelName, init?: unknown, options: ModelOptions = {}): Model<unknown> {
  switch (name) {
    case 'register':
    case 'cas-register':
    case 'etcd-register':
      return registerModel(name, init ?? null, options) as Model<unknown>;
    case 'kv':
      return kvModel(init ?? '') as Model<unknown>;
    case 'multi-register':
      if (init !== undefined && (typeof init !== 'object' || init === null || Array.isArray(init))) {
        throw new UsageError(`Cannot create model "multi-register": init must be an object of register values, got ${JSON.stringify(init)}`);
      }
      return multiRegisterModel((init ?? {}) as Record<string, unknown>) as Model<unknown>;
    case 'mutex':
      return mutexModel(init === true) as Model<unknown>;
    case 'set':
      return setModel() as Model<unknown>;
    case 'fifo-queue':
    case 'unordered-queue':
      return queueModel(name) as Model<unknown>;
    default:
      throw new UsageError(`Cannot create model "${String(name)}": expected one of ${MODEL_NAMES.join(', ')}`);
  }
}
