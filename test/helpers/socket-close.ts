import type net from 'node:net';

/** Resolves true once the peer closes `socket`, or false if it is still open after `withinMs`. */
export function closesWithin(socket: net.Socket, withinMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), withinMs);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
