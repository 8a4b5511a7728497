import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between the pool and PostgreSQL that misbehaves on demand: added latency, every
 * connection dropped, new connections refused, or traffic black-holed (accepted, never answered).
 */
export class FaultProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private latencyMs = 0;
  private blackHoled = false;
  private holdingNew = false;
  private cutAfter: Buffer | undefined;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts listening (on the same port as before, after refuse()). */
  async listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (typeof address === 'object' && address) this.port = address.port;
    this.server = server;
  }

  /** A database URL that goes through this proxy. */
  urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Accept and hold, never forward nor answer: on new and existing connections alike. */
  blackHole(on: boolean): void {
    this.blackHoled = on;
  }

  /** Connections opened from now on are accepted and held, never forwarded; open ones go on working. */
  holdNewConnections(on: boolean): void {
    this.holdingNew = on;
  }

  /**
   * Once: the next client message that contains `marker` (e.g. a COMMIT) reaches the server, but its
   * answer never comes back: that connection is cut 200 ms later. A plain-text protocol is needed
   * (sslmode=disable) to see the marker.
   */
  cutAnswerTo(marker: string): void {
    this.cutAfter = Buffer.from(marker);
  }

  /** Destroys every open connection, as a database restart or a network cut would. */
  dropAll(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Stops listening: new connections are refused (ECONNREFUSED); open ones are dropped too. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.dropAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  get connectionCount(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    await this.refuse();
  }

  private accept(client: Socket): void {
    const upstream = createConnection(this.targetPort, this.targetHost);
    const pair = { client, upstream };
    this.pairs.add(pair);
    let cut = false;
    const held = this.holdingNew;
    const forward = (from: Socket, to: Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (this.blackHoled || cut || held) return;
        if (from === client && this.cutAfter && chunk.includes(this.cutAfter)) {
          this.cutAfter = undefined;
          cut = true;
          upstream.write(chunk);
          setTimeout(close, 200);
          return;
        }
        if (this.latencyMs > 0) setTimeout(() => to.writable && to.write(chunk), this.latencyMs);
        else if (to.writable) to.write(chunk);
      });
    };
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    forward(client, upstream);
    forward(upstream, client);
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }
}
