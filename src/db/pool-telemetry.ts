/** Counters since the pool was built and a window of recent acquire times, read by /api/health/db and /metrics. */
interface PoolCounters {
  acquisitions: number;
  acquireTimeouts: number;
  queueFullRejections: number;
  connectionErrors: number;
  connectionsCreated: number;
  connectionsDestroyed: number;
  leaksDetected: number;
  hostSwitches: number;
}

/** Pool events; `pool` is the pool's name (DB_APPLICATION_NAME for the primary, then its replicas'). */
export interface TelemetryListener {
  onAcquire?(seconds: number, pool: string): void;
  onAcquireTimeout?(pool: string): void;
  onQueueFull?(pool: string): void;
  onUse?(seconds: number, pool: string): void;
  onConnectionCreated?(seconds: number, pool: string): void;
  onConnectionDestroyed?(pool: string): void;
  onQuery?(operation: string, seconds: number, pool: string): void;
  onLeak?(pool: string): void;
  /** A connection failed: it could not be opened, or an idle one died (a restart, pg_terminate_backend). */
  onConnectionError?(pool: string): void;
  onHostSwitch?(pool: string): void;
}

const WINDOW = 1024;
const EARLY_CREATIONS = 256;

/** Changed only through its methods; each tells the listeners (/metrics) as it counts. */
export class PoolTelemetry {
  private readonly counted: PoolCounters = {
    acquisitions: 0,
    acquireTimeouts: 0,
    queueFullRejections: 0,
    connectionErrors: 0,
    connectionsCreated: 0,
    connectionsDestroyed: 0,
    leaksDetected: 0,
    hostSwitches: 0,
  };
  /** The counts so far (a read-only view). */
  get counters(): Readonly<PoolCounters> {
    return this.counted;
  }

  private readonly acquireMs = new Float64Array(WINDOW);
  private samples = 0;
  /** When a statement last came back with an answer (performance.now()), 0 before the first. */
  lastAnswerAt = 0;
  /** The first connections' opening times (the warm-up's, before any listener may exist), in ms. */
  readonly earlyCreationMs: number[] = [];

  constructor(
    readonly poolName: string,
    private readonly listeners: ReadonlySet<TelemetryListener>,
  ) {}

  acquired(ms: number): void {
    this.counted.acquisitions += 1;
    this.acquireMs[this.samples % WINDOW] = ms;
    this.samples += 1;
    for (const l of this.listeners) l.onAcquire?.(ms / 1000, this.poolName);
  }

  acquireTimedOut(): void {
    this.counted.acquireTimeouts += 1;
    for (const l of this.listeners) l.onAcquireTimeout?.(this.poolName);
  }

  queueFull(): void {
    this.counted.queueFullRejections += 1;
    for (const l of this.listeners) l.onQueueFull?.(this.poolName);
  }

  used(ms: number): void {
    for (const l of this.listeners) l.onUse?.(ms / 1000, this.poolName);
  }

  connectionCreated(ms: number): void {
    this.counted.connectionsCreated += 1;
    if (this.earlyCreationMs.length < EARLY_CREATIONS) this.earlyCreationMs.push(ms);
    for (const l of this.listeners) l.onConnectionCreated?.(ms / 1000, this.poolName);
  }

  connectionDestroyed(): void {
    this.counted.connectionsDestroyed += 1;
    for (const l of this.listeners) l.onConnectionDestroyed?.(this.poolName);
  }

  leaked(): void {
    this.counted.leaksDetected += 1;
    for (const l of this.listeners) l.onLeak?.(this.poolName);
  }

  hostSwitched(): void {
    this.counted.hostSwitches += 1;
    for (const l of this.listeners) l.onHostSwitch?.(this.poolName);
  }

  connectionFailed(): void {
    this.counted.connectionErrors += 1;
    for (const l of this.listeners) l.onConnectionError?.(this.poolName);
  }

  /** A statement came back with its rows: the database answers. */
  answered(): void {
    this.lastAnswerAt = performance.now();
  }

  queried(operation: string, ms: number): void {
    for (const l of this.listeners) l.onQuery?.(operation, ms / 1000, this.poolName);
  }

  /** p50 and p99 of the last acquire times, in milliseconds (null before the first). */
  acquirePercentiles(): { p50: number | null; p99: number | null } {
    const n = Math.min(this.samples, WINDOW);
    if (n === 0) return { p50: null, p99: null };
    const sorted = Array.from(this.acquireMs.subarray(0, n)).sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.min(n - 1, Math.floor(q * n))]! * 100) / 100;
    return { p50: at(0.5), p99: at(0.99) };
  }
}
