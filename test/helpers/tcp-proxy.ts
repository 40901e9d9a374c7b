import net from 'node:net';
import { onTeardown } from './teardown';

/**
 * A loopback TCP proxy in front of a real server, for partitions: cut() drops every connection and refuses new
 * ones (the port stays reserved, closed), stall() drops them and takes new ones without ever forwarding or answering
 * (a server that accepts and hangs), restore() forwards new connections again on the same port (stalled ones stay
 * stalled). Stopped after the test.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private stalling = false;
  /** Connections taken while stalling, never forwarded. */
  stalled = 0;
  port = 0;

  private constructor(private readonly target: { host: string; port: number }) {}

  static async start(target: string): Promise<TcpProxy> {
    const [host, port] = target.split(':');
    const proxy = new TcpProxy({ host, port: Number(port) });
    await proxy.listen(0);
    onTeardown('tcp proxy', () => proxy.cut());
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Drops every connection and stops accepting: to clients, the server has gone away. */
  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Drops every connection; new ones are accepted and left hanging until restore(), and then for good. */
  async stall(): Promise<void> {
    this.stalling = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (!this.server) await this.listen(this.port);
  }

  async restore(): Promise<void> {
    this.stalling = false;
    if (!this.server) await this.listen(this.port);
  }

  private listen(port: number): Promise<void> {
    const server = net.createServer((client) => {
      if (this.stalling) {
        this.stalled++;
        client.on('error', () => undefined);
        // Read and drop what the client sends, answer nothing; closed with the other sockets by cut().
        client.resume();
        this.sockets.add(client);
        client.on('close', () => this.sockets.delete(client));
        return;
      }
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }
}
