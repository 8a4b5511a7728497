import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { getConfig } from '../config/config';

/** Paths never written to a log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'password',
  '*.password',
  'current_password',
  '*.current_password',
  'new_password',
  '*.new_password',
  'token',
  '*.token',
];

let instance: Logger | undefined;
let requestInstance: Logger | undefined;
let destination: DestinationStream | undefined;

function options(): LoggerOptions {
  return { level: getConfig().log.level, base: { service: 'customer-api' } };
}

/**
 * Readable lines for a developer at a terminal, JSON for everything else (pipes, files, log shippers)
 * and always in production; LOG_PRETTY=true/false forces either way.
 */
export function prettyLogs(forced: boolean | undefined, env: string, stdoutIsTerminal: boolean): boolean {
  return forced ?? (env === 'development' && stdoutIsTerminal);
}

// Both loggers write through one stream, so their lines never interleave.
function sharedDestination(): DestinationStream {
  if (!destination) {
    const config = getConfig();
    destination = prettyLogs(config.log.pretty, config.env, process.stdout.isTTY === true)
      ? pino.transport({ target: 'pino-pretty', options: { colorize: true } }) : pino.destination({ dest: 1, sync: true });
  }
  return destination;
}

/** The one pino instance, built on first use from the config. */
export function getLogger(): Logger {
  instance ??= pino({ ...options(), redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sharedDestination());
  return instance;
}

/**
 * The logger of the one line per request. Its fields are fixed (id, route template, status,
 * duration, user id) and hold no secret, so it skips redaction, a cost on every request.
 */
export function getRequestLogger(): Logger {
  requestInstance ??= pino(options(), sharedDestination());
  return requestInstance;
}
