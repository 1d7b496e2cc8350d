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
    super(
      `Cannot read history${file ? ` "${file}"` : ''}${line !== undefined ? ` at line ${line}` : ''}: ${detail}`,
      options,
    );
  }
}

/** A user option that is invalid. Maps to exit code 254. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
