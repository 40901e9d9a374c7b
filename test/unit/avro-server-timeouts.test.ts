import assert from 'node:assert/strict';
import net from 'node:net';
import { silentLogger } from '../../src/logging/logger';
import type { Commands } from '../../src/commands/commands';
import { AvroServer } from '../../src/rpc/avro-server';
import { closesWithin } from '../helpers/socket-close';
import { onTeardown } from '../helpers/teardown';

describe('Avro server: connections stuck half-way through a message', () => {
  it('closes a connection that stops in the middle of a message, and keeps an idle one', async () => {
    // No call completes in this test, so the commands are never reached.
    const server = new AvroServer({ commands: {} as Commands, logger: silentLogger(), limits: { maxKeyBytes: 64, maxValueBytes: 64 }, messageTimeoutMs: 300 });
    const { port } = await server.listen(0, '127.0.0.1');
    onTeardown('avro server', () => server.close());
    const connect = (): Promise<net.Socket> =>
      new Promise((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
        onTeardown('socket', () => void socket.destroy());
      });

    const stuck = await connect();
    // A header announcing one frame of 100 bytes, then only 3 of them.
    stuck.write(Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 100, 1, 2, 3]));
    const idle = await connect();
    const [stuckClosed, idleClosed] = await Promise.all([closesWithin(stuck, 3_000), closesWithin(idle, 1_500)]);
    assert.ok(stuckClosed, 'a connection stuck mid-message stayed open');
    assert.equal(idleClosed, false, 'an idle connection between messages was closed');
  });
});
