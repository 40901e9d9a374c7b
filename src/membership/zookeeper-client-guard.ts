/**
 * node-zookeeper-client parses server bytes inside its socket 'data' handler and throws on bytes that are not
 * ZooKeeper's (for example when ZOOKEEPER_HOST points at another kind of server). Thrown there, the error is
 * uncaught and would take the whole node down. This guard makes such bytes end that one connection instead: the
 * client's own reconnect logic then takes over, as after any connection loss.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ConnectionManager = require('node-zookeeper-client/lib/ConnectionManager.js') as {
  prototype: { onSocketData(this: GuardedConnection, buffer: Buffer): void; __bitacoraGuarded?: boolean };
};

interface GuardedConnection {
  pendingBuffer: Buffer | null;
  socket?: { destroy(): void };
}

/** Told which connection (a client's `connectionManager`) received bytes it could not parse. */
export type GarbageListener = (connection: object, error: unknown) => void;

const listeners = new Set<GarbageListener>();

/** Installs the guard (once per process) and subscribes `listener`; returns the unsubscribe function. */
export function guardZooKeeperClient(listener: GarbageListener): () => void {
  const proto = ConnectionManager.prototype;
  if (!proto.__bitacoraGuarded) {
    const parse = proto.onSocketData;
    proto.onSocketData = function guardedOnSocketData(this: GuardedConnection, buffer: Buffer): void {
      try {
        parse.call(this, buffer);
      } catch (error) {
        this.pendingBuffer = null;
        this.socket?.destroy();
        for (const notify of listeners) notify(this, error);
      }
    };
    proto.__bitacoraGuarded = true;
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}
