import type net from 'node:net';

/** Starts `server` listening; resolves with the address it got (port 0 picks one), rejects if it cannot bind. */
export function listenTcp(server: net.Server, port: number, host: string): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({ host: address.address, port: address.port });
    });
  });
}
