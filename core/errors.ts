/** Errors that callers act on. Messages follow "Cannot <action>: <detail>". */

/** A history file or event that cannot be read as a history. Maps to exit code 254. */
export class HistoryFormatError extends Error {
  override readonly name = 'HistoryFormatError';
  constructor(
    readonly detail: string,
    readonly line?: number,
    readonly file?: string,
    options?: ErrorOptions,
  ) {
    // One line, whatever the input quoted in `detail` holds.
    super(
      `Cannot read history${file ? ` "${file}"` : ''}${line !== undefined ? ` at line ${line}` : ''}: ${detail.replace(/[\n\r\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1))}`,
      options,
    );
  }
}

/**
 * `err` with `file` named in it when it is a HistoryFormatError that does not name one yet (checkers report
 * lines of histories they were handed in memory; the command that read the file knows which file it was).
 * Anything else is returned as it is.
 */
export function namingFile(err: unknown, file: string): unknown {
  return err instanceof HistoryFormatError && err.file === undefined ? new HistoryFormatError(err.detail, err.line, file, { cause: err }) : err;
}

/** A user option that is invalid. Maps to exit code 254. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
