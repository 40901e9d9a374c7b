import type net from 'node:net';

/** How long a closed connection's client has to send its FIN before the socket is destroyed. */
const CLOSE_LINGER_MS = 5_000;

/**
 * Ends our side once the replies are written, and keeps reading (and dropping) what the client still sends, so
 * its FIN is seen and the socket closes; a close with unread bytes would reset the connection and could lose the
 * last replies. A client that never closes its side is cut off after CLOSE_LINGER_MS.
 */
export function closeAfterWrites(socket: net.Socket): void {
  socket.end();
  socket.removeAllListeners('data');
  socket.on('data', () => undefined);
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), CLOSE_LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
