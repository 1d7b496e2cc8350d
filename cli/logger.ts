import pino from 'pino';

/** The CLI's root logger: JSON lines on stderr (stdout is for results), quiet unless FAULTLINE_LOG_LEVEL says so. */
export function cliLogger(): pino.Logger {
  return pino({ name: 'faultline', level: process.env['FAULTLINE_LOG_LEVEL'] ?? 'warn' }, pino.destination(2));
}
