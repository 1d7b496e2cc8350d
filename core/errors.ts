/** Errors that callers act on. Messages follow "Cannot <action>: <detail>". */

/** A history file or event that cannot be read as a history. Maps to exit code 254. */
export class HistoryFormatError extends Error {
  override readonly name = 'HistoryFormatError';
  /** The format the file was read as, and why (`JSON lines, by its .jsonl name`), when the reader knows. */
  readonly readAs: string | undefined;
  constructor(
    readonly detail: string,
    readonly line?: number,
    readonly file?: string,
    options?: ErrorOptions & { readAs?: string },
  ) {
    // One line, whatever the input quoted in `detail` holds.
    super(
      `Cannot read history${file ? ` "${file}"` : ''}${options?.readAs ? ` (read as ${options.readAs})` : ''}${line !== undefined ? ` at line ${line}` : ''}: ${detail.replace(/[\n\r\u2028\u2029]/g, (c) => JSON.stringify(c).slice(1, -1))}`,
      options,
    );
    this.readAs = options?.readAs;
  }
}

/**
 * `err` with `file` named in it when it is a HistoryFormatError that does not name one yet (checkers report
 * lines of histories they were handed in memory; the command that read the file knows which file it was).
 * Anything else is returned as it is.
 */
export function namingFile(err: unknown, file: string): unknown {
  if (!(err instanceof HistoryFormatError) || err.file !== undefined) return err;
  return new HistoryFormatError(err.detail, err.line, file, err.readAs !== undefined ? { cause: err, readAs: err.readAs } : { cause: err });
}

/** A user option that is invalid. Maps to exit code 254. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
