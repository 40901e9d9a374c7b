import assert from 'node:assert/strict';
import net from 'node:net';
import { findFreePort } from '../../src/stack/free-port';
import { probeZooKeeper } from '../../src/stack/zookeeper-server';

/** A TCP server on `port` that records every connection it accepts and whether it is still open. */
async function recordingServer(
  port: number,
  onConnection: (socket: net.Socket) => void = () => undefined,
): Promise<{ server: net.Server; open: () => number; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    // Read (and drop) what arrives, so the peer's FIN is seen and the socket closes.
    socket.resume();
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return { server, open: () => sockets.size, accepted: () => accepted, close };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the stack\'s ZooKeeper readiness probe', () => {
  it('leaves no connection behind when it times out before ZooKeeper listens (stack up used to hang on one)', async () => {
    const port = await findFreePort();
    await assert.rejects(probeZooKeeper(`127.0.0.1:${port}`, 300));
    // ZooKeeper starts listening only now, as it does while `stack up` polls it.
    const late = await recordingServer(port);
    try {
      await sleep(1_500);
      assert.equal(late.accepted(), 0, 'a probe that gave up must not connect later');
    } finally {
      await late.close();
    }
  });

  it('closes its connection when a server accepts and never answers', async () => {
    const port = await findFreePort();
    const silent = await recordingServer(port);
    try {
      await assert.rejects(probeZooKeeper(`127.0.0.1:${port}`, 300), /ZooKeeper session/);
      await sleep(200);
      assert.equal(silent.accepted(), 1);
      assert.equal(silent.open(), 0, 'the probe closed its socket');
    } finally {
      await silent.close();
    }
  });

  it('refuses bytes that are no ZooKeeper answer', async () => {
    const port = await findFreePort();
    const stranger = await recordingServer(port, (socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    try {
      await assert.rejects(probeZooKeeper(`127.0.0.1:${port}`, 1_000));
    } finally {
      await stranger.close();
    }
  });
});
