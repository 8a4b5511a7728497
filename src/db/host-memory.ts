import type { HostPort } from '../config/database-url';

/**
 * What a pool remembers of its hosts, as pgjdbc does (hostRecheckSeconds): a host that refused or
 * timed out is `down`, and new connections try the other hosts first, so that a host that never
 * answers costs one connect timeout per recheck interval instead of one per connection. A host is
 * `up` once a connection reached it (whatever its role), `unknown` before anyone tried.
 */
type HostHealth = 'up' | 'down' | 'unknown';

export interface HostStatus {
  /** host:port, never a password. */
  readonly host: string;
  readonly state: HostHealth;
  /** When it took that state (null while unknown). */
  readonly since: string | null;
}

interface Entry {
  state: HostHealth;
  since: Date | undefined;
  /** A down host: Date.now() after which it is probed again. */
  recheckAt: number;
}

/** Called once when a host goes down, and once when it is back. */
type HostChangeListener = (key: string, state: 'up' | 'down', reason: string | undefined) => void;

export class HostMemory {
  private readonly entries = new Map<string, Entry>();

  constructor(
    keys: readonly string[],
    private readonly recheckMs: number,
    private readonly onChange: HostChangeListener,
  ) {
    for (const key of keys) this.entries.set(key, { state: 'unknown', since: undefined, recheckAt: 0 });
  }

  /**
   * The walk's order: hosts not known to be down, in the given order, then the down ones (still
   * tried when no other host fits). `key` names a host as the walk does.
   */
  order<T extends HostPort | undefined>(hosts: readonly T[], key: (host: T) => string): T[] {
    const down = hosts.filter((h) => this.entries.get(key(h))?.state === 'down');
    if (down.length === 0 || down.length === hosts.length) return [...hosts];
    return [...hosts.filter((h) => !down.includes(h)), ...down];
  }

  isDown(key: string): boolean {
    return this.entries.get(key)?.state === 'down';
  }

  markUp(key: string): void {
    this.set(key, 'up', undefined);
  }

  markDown(key: string, reason: string): void {
    const entry = this.set(key, 'down', reason);
    entry.recheckAt = Date.now() + this.recheckMs;
  }

  /** Down hosts whose recheck time has come (each is then not due again for an interval). */
  takeDue(now = Date.now()): string[] {
    const due: string[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.state === 'down' && entry.recheckAt <= now) {
        entry.recheckAt = now + this.recheckMs;
        due.push(key);
      }
    }
    return due;
  }

  /** Every host with its state, in the URL's order. */
  list(): HostStatus[] {
    return [...this.entries].map(([host, e]) => ({ host, state: e.state, since: e.since?.toISOString() ?? null }));
  }

  private set(key: string, state: 'up' | 'down', reason: string | undefined): Entry {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { state: 'unknown', since: undefined, recheckAt: 0 };
      this.entries.set(key, entry);
    }
    if (entry.state !== state) {
      const was = entry.state;
      entry.state = state;
      entry.since = new Date();
      // The first success is no news; a host going down is, and so is one coming back.
      if (state === 'down' || was === 'down') this.onChange(key, state, reason);
    }
    return entry;
  }
}
