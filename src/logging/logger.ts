import { TraceFlags, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { getLibraryConfig } from '../config/config';

/** Paths never written to a log line. */
const REDACT_PATHS = [
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
  return { level: getLibraryConfig().log.level, base: { service: 'customer-api' } };
}

/** trace_id and span_id of the sampled span a line is written in (docs/operations.md: Tracing). */
function traceFields(): Record<string, string> {
  // A span still recording: a line from a socket opened during a request that has since ended is not that request's.
  const span = trace.getActiveSpan();
  const ids = span?.isRecording() ? span.spanContext() : undefined;
  return ids && (ids.traceFlags & TraceFlags.SAMPLED) !== 0 ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
}
let withTraceFields = false;
let usersOwn = false;

/**
 * While tracing runs, every line written inside a sampled span carries its trace_id and span_id (a pino
 * mixin, asked on every line: off, there is none). The logger is built again with or without it.
 */
export function useTraceFields(on: boolean): void {
  withTraceFields = on;
  if (!usersOwn) instance = undefined;
}

/**
 * Readable lines for a developer at a terminal, JSON for everything else (pipes, files, log shippers)
 * and always in production; LOG_PRETTY=true/false forces either way.
 */
export function prettyLogs(forced: boolean | undefined, env: string, stdoutIsTerminal: boolean): boolean {
  return forced ?? (env === 'development' && stdoutIsTerminal);
}

/** A buffered destination writes once it holds this much, */
const LOG_BUFFER_BYTES = 4096;
/** and at least this often while it holds anything. */
export const LOG_FLUSH_MS = 100;

/**
 * Standard output, buffered: one write(2) per 4 KB or 100 ms instead of one per line (the system call
 * was about half of the log line's time under load). Lines are gathered here and handed to sonic-boom
 * a batch at a time: its own buffer measures the whole pending text on every write (Buffer.byteLength
 * of a growing string: a copy of up to 4 KB per line). What is left is written at exit, process.exit()
 * included; what a SIGKILL or a crash of Node itself finds here is lost. LOG_SYNC=true writes each
 * line at once.
 */
function stdoutDestination(sync: boolean): DestinationStream {
  const out = pino.destination({ dest: 1, sync: true });
  if (sync) return out;
  let lines: string[] = [];
  let bytes = 0;
  const handOver = (): void => {
    if (lines.length === 0) return;
    const text = lines.join('');
    lines = [];
    bytes = 0;
    out.write(text);
  };
  setInterval(handOver, LOG_FLUSH_MS).unref();
  process.on('exit', handOver);
  return {
    write(line: string) {
      lines.push(line);
      bytes += line.length;
      if (bytes >= LOG_BUFFER_BYTES) handOver();
      return true;
    },
    // logger.flush(): now, not at the next tick of the timer.
    flush: (done?: (err?: Error) => void) => {
      handOver();
      out.flush(done);
    },
  } as DestinationStream;
}

// Both loggers write through one stream, so their lines never interleave.
function sharedDestination(): DestinationStream {
  if (!destination) {
    const { log } = getLibraryConfig();
    destination = prettyLogs(log.pretty, log.env, process.stdout.isTTY === true)
      ? pino.transport({ target: 'pino-pretty', options: { colorize: true } }) : stdoutDestination(log.sync);
  }
  return destination;
}

/** The one pino instance, built on first use from the config (or the one a library user gave: useLogger). */
export function getLogger(): Logger {
  instance ??= pino({ ...options(), redact: { paths: REDACT_PATHS, censor: '[redacted]' }, ...(withTraceFields ? { mixin: traceFields } : {}) }, sharedDestination());
  return instance;
}

/** What the data layer writes its lines with: pino's calls (`log.warn(fields, message)`), so pino or a logger shaped like it. */
export type LoggerLike = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'> & Partial<Pick<Logger, 'isLevelEnabled'>>;

/**
 * A logger of the caller's (the query helpers used as a library): the data layer writes its lines (slow
 * queries, pool warnings, host switches) there instead of to its own.
 */
export function useLogger(logger: LoggerLike): void {
  const isLevelEnabled = logger.isLevelEnabled?.bind(logger) ?? (() => true);
  instance = Object.assign(Object.create(logger) as Logger, { isLevelEnabled });
  usersOwn = true;
}

/**
 * The logger of the one line per request. Its fields are fixed (id, route template, status,
 * duration, user id) and hold no secret, so it skips redaction, a cost on every request.
 */
export function getRequestLogger(): Logger {
  requestInstance ??= pino(options(), sharedDestination());
  return requestInstance;
}
