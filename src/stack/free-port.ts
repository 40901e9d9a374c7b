import net from 'node:net';
import { withTimeout } from '../retry/retry';

/** Every service of the stack listens here only; nothing is exposed beyond the machine. */
export const STACK_HOST = '127.0.0.1';
const BIND_TIMEOUT_MS = 5_000;

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: the OS picks it when binding port 0.
 * Another process may still take it before it is used, so callers start servers soon after.
 */
export async function findFreePort(): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.unref();
      server.once('error', reject);
      server.listen({ host: STACK_HOST, port: 0, exclusive: true }, () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        server.close(() => (port > 0 ? resolve(port) : reject(new Error('the OS gave no port for 127.0.0.1:0'))));
      });
    }),
    BIND_TIMEOUT_MS,
    'binding 127.0.0.1:0 to find a free port',
  );
}

/** `count` distinct free ports; distinct because the OS may hand the same ephemeral port out twice in a row. */
export async function findFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  // Bounded: a handful of repeats is already unlikely; this many means something is wrong with the machine.
  for (let attempt = 0; ports.size < count && attempt < count * 20; attempt++) ports.add(await findFreePort());
  if (ports.size < count) throw new Error(`could not find ${count} distinct free ports on ${STACK_HOST}`);
  return [...ports];
}

/** True when nothing listens on 127.0.0.1:`port`, tested by binding it briefly. */
export async function isPortFree(port: number): Promise<boolean> {
  return withTimeout(
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen({ host: STACK_HOST, port, exclusive: true }, () => server.close(() => resolve(true)));
    }),
    BIND_TIMEOUT_MS,
    `binding ${STACK_HOST}:${port} to check it is free`,
  );
}
