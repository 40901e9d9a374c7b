/** The node-zookeeper-client version this patch was written for and checked against (test/unit/patches.test.ts). */
export const ZOOKEEPER_CLIENT_PATCHED_VERSION = '1.1.3';

/**
 * node-zookeeper-client parses server bytes inside its socket 'data' handler and throws on bytes that are not
 * ZooKeeper's (for example when ZOOKEEPER_HOST points at another kind of server). Thrown there, the error is
 * uncaught and would take the whole node down. This guard makes such bytes end that one connection instead: the
 * client's own reconnect logic then takes over, as after any connection loss.
 */
/** The library's internal class the patch wraps a method of (exported for the test that checks it is still there). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const ConnectionManager = require('node-zookeeper-client/lib/ConnectionManager.js') as {
  prototype: { onSocketData(this: GuardedConnection, buffer: Buffer): void; __bitacoraGuarded?: boolean };
};

interface GuardedConnection {
  pendingBuffer: Buffer | null;
  socket?: { destroy(): void };
}

/** Told which connection (a client's `connectionManager`) received bytes it could not parse. */
export type GarbageListener = (connection: object, error: unknown) => void;

const listeners = new Set<GarbageListener>();

/** Installs the patch (once per process) and subscribes `listener`; returns the unsubscribe function. */
export function patchZooKeeperSocketData(listener: GarbageListener): () => void {
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
