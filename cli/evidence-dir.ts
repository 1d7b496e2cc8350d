import { basename, resolve } from 'node:path';

/**
 * Where `faultline check` writes evidence when --out is not given: under the store (`store/` in the current
 * folder, as for `faultline run`), in `<store>/check/<file name>/<time>/`, never beside the input file (which may
 * sit in a read-only corpus or a checkout).
 */
export function evidenceDirFor(file: string, store = 'store', now = new Date()): string {
  const stamp = now.toISOString().replace(/:/g, '');
  return resolve(store, 'check', basename(file).replace(/[^A-Za-z0-9._-]+/g, '_'), stamp);
}
