/**
 * A TCP proxy on 127.0.0.1 that stands in for a load balancer in fault tests: each new connection
 * goes to the next backend that accepts it (round robin), and every proxied connection can be cut
 * at once, as a network failure would.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly port: number;
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private next = 0;
  /** Connections made, per backend port. */
  readonly routed = new Map<number, number>();

  private constructor(
    server: Server,
    port: number,
    private backends: number[],
  ) {
    this.server = server;
    this.port = port;
  }

  static async start(backends: number[]): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy?.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as { port: number }).port, backends);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  setBackends(ports: number[]): void {
    this.backends = ports;
  }

  /** Cuts every proxied connection (both sides see a reset). */
  dropAll(): number {
    const n = this.pairs.size;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    return n;
  }

  /**
   * Stops moving bytes on every proxied connection without closing it: a half-open connection, as
   * when a network path dies silently. New connections are proxied normally.
   */
  freezeAll(): void {
    for (const pair of this.pairs) {
      const [a, b] = pair;
      a.unpipe(b);
      b.unpipe(a);
      a.pause();
      b.pause();
      this.pairs.delete(pair);
      this.frozen.push(a, b);
    }
  }

  private readonly frozen: Socket[] = [];

  get open(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.dropAll();
    for (const s of this.frozen.splice(0)) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.pause();
    client.on('error', () => {});
    this.tryBackend(client, 0);
  }

  private tryBackend(client: Socket, attempt: number): void {
    if (attempt >= this.backends.length || client.destroyed) {
      client.destroy();
      return;
    }
    const port = this.backends[this.next++ % this.backends.length] as number;
    const upstream = connect(port, '127.0.0.1');
    upstream.once('error', () => {
      upstream.destroy();
      this.tryBackend(client, attempt + 1);
    });
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      this.routed.set(port, (this.routed.get(port) ?? 0) + 1);
      const done = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.once('close', done);
      upstream.once('close', done);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}
