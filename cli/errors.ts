import { CommanderError } from 'commander';
import { HistoryFormatError, UsageError } from '../core/errors';
import { CertificateError } from '../controller/certs/cert-authority';
import { AgentRequestError, AgentUnavailableError, NodePreconditionError } from '../controller/errors';
import { EXIT } from './exit-codes';

/** Errors that are the user's or the environment's to fix: one line, no stack trace, exit 254. */
export function isUserError(err: unknown): err is Error {
  return (
    err instanceof UsageError ||
    err instanceof HistoryFormatError ||
    err instanceof RangeError ||
    err instanceof TypeError && /^Cannot /.test(err.message) ||
    err instanceof NodePreconditionError ||
    err instanceof CertificateError ||
    err instanceof AgentUnavailableError ||
    err instanceof AgentRequestError
  );
}

/** Prints `err` the way a user should see it and returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander printed its own message already
    return err.exitCode === 0 ? 0 : EXIT.badInput;
  }
  if (isUserError(err)) {
    process.stderr.write(`faultline: ${err.message.split('\n')[0]}\n`);
    return EXIT.badInput;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`faultline: internal error: ${message.split('\n')[0]}\n`);
  if (process.env['FAULTLINE_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  else process.stderr.write('faultline: set FAULTLINE_DEBUG=1 for the stack trace, and please report it\n');
  return EXIT.internal;
}
