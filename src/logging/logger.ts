import pino, { type Logger } from 'pino';
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

/** The one pino instance, built on first use from the config. */
export function getLogger(): Logger {
  if (!instance) {
    const { level, pretty } = getConfig().log;
    instance = pino({
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'customer-api' },
      ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
    });
  }
  return instance;
}
