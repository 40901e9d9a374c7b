import { readFileSync } from 'node:fs';
import net from 'node:net';
import { withTimeout } from '../retry/retry';

/** Every service of the stack listens here only; nothing is exposed beyond the machine. */
export const STACK_HOST = '127.0.0.1';
const BIND_TIMEOUT_MS = 5_000;

/** Where random picks start: above the registered ports most development services use. */
const PICK_FLOOR = 20_000;
const PICK_ATTEMPTS = 50;

/**
 * A TCP port on 127.0.0.1 that was free a moment ago. Picked below the kernel's ephemeral range when it can be:
 * a port in that range may meanwhile become the source port of some outgoing connection, and a client polling a
 * server that is not listening yet may even connect to itself on it (TCP self-connect), reading its own request as
 * the answer and holding the port the server is about to bind. Another process may still take the port before it
 * is used, so callers start servers soon after.
 */
export async function findFreePort(): Promise<number> {
  const { low } = ephemeralPortRange();
  if (low - PICK_FLOOR >= 1_000) {
    for (let attempt = 0; attempt < PICK_ATTEMPTS; attempt++) {
      const candidate = PICK_FLOOR + Math.floor(Math.random() * (low - PICK_FLOOR));
      if (await isPortFree(candidate)) return candidate;
    }
  }
  return osAssignedPort();
}

/** The kernel's range for source ports of outgoing connections: Linux's setting, else the IANA range macOS uses. */
function ephemeralPortRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high && low <= high) return { low, high };
  } catch {
    // not Linux
  }
  return { low: 49_152, high: 65_535 };
}

/** A port the OS picks by binding port 0: free, but from the ephemeral range. */
function osAssignedPort(): Promise<number> {
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
