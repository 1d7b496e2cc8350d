/** `faultline check --model list-append|rw-register`: the transactional (Elle-class) checker. */

export interface TxnCheckOptions {
  model: 'list-append' | 'rw-register';
  consistency?: string;
  json?: boolean;
  outDir?: string;
}

/**
 * Reads FILE, checks it, prints the verdict (JSON with `json`), writes evidence (SVG, explanation) into
 * `outDir` (default: next to the file) and returns the exit code: 0 valid, 1 invalid, 2 unknown, 254 bad input.
 */
export async function runTxnCheck(file: string, opts: TxnCheckOptions): Promise<number> {
  void file;
  void opts;
  throw new Error('Cannot check transactions: not implemented yet');
}
