import { getLogger } from '../logging/logger';

/**
 * The one deadline rule of a shutdown: SHUTDOWN_TIMEOUT_MS from the first signal, whatever runs. Each
 * stage gets a share of what is left (in-flight requests 60 % of the whole, API keys' last-use writes a
 * quarter of the rest, the pool half of what is left then, the database the rest; a cluster's workers
 * 80 %); at the deadline itself the process exits 1.
 */
export class ShutdownDeadline {
  private readonly endsAt: number;

  constructor(readonly totalMs: number) {
    this.endsAt = Date.now() + totalMs;
    setTimeout(() => {
      getLogger().error({ timeoutMs: totalMs }, 'shutdown deadline reached: exiting now');
      process.exit(1);
    }, totalMs).unref();
  }

  /** Milliseconds until the deadline. */
  left(): number {
    return Math.max(0, this.endsAt - Date.now());
  }

  /** A share of the whole timeout, in milliseconds. */
  share(fraction: number): number {
    return Math.floor(this.totalMs * fraction);
  }
}

/** The share of SHUTDOWN_TIMEOUT_MS a cluster's worker drains within, so that the primary can still stop the database. */
export const WORKER_SHARE = 0.8;
/** The share in-flight requests get before their connections are closed. */
export const DRAIN_SHARE = 0.6;
