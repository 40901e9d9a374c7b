import assert from 'node:assert/strict';
import { BitacoraError } from '../../src/errors/bitacora-error';
import { PartitionPositions } from '../../src/log/partition-positions';

describe('partition positions', () => {
  it('is ready only once every partition reaches the end offset it had at start', () => {
    const positions = new PartitionPositions();
    positions.initialize([
      { partition: 0, low: 0, high: 10 },
      { partition: 1, low: 5, high: 5 },
    ]);
    assert.equal(positions.isReady(), false);
    positions.advance(0, 9);
    assert.equal(positions.isReady(), false);
    positions.advance(0, 10);
    assert.equal(positions.isReady(), true);
  });

  it('is ready at once on an empty topic, and an empty log counts from its low offset', () => {
    const positions = new PartitionPositions();
    positions.initialize([{ partition: 0, low: 7, high: 7 }]);
    assert.equal(positions.isReady(), true);
    assert.equal(positions.position(0), 7);
  });

  it('never moves backwards', () => {
    const positions = new PartitionPositions();
    positions.initialize([{ partition: 0, low: 0, high: 0 }]);
    positions.advance(0, 5);
    positions.advance(0, 3);
    assert.equal(positions.position(0), 5);
  });

  it('wakes a writer when its offset is applied, in offset order', async () => {
    const positions = new PartitionPositions();
    positions.initialize([{ partition: 0, low: 0, high: 0 }]);
    const woken: number[] = [];
    const waits = [4, 2, 3].map((offset) => positions.waitForApplied(0, offset, 5_000).then(() => woken.push(offset)));
    positions.advance(0, 3);
    await Promise.resolve();
    await Promise.resolve();
    assert.deepEqual(woken, [2]);
    positions.advance(0, 5);
    await Promise.all(waits);
    assert.deepEqual(woken, [2, 3, 4]);
  });

  it('fails a writer with APPLY_TIMEOUT, naming its offset', async () => {
    const positions = new PartitionPositions();
    positions.initialize([{ partition: 1, low: 0, high: 0 }]);
    await assert.rejects(
      positions.waitForApplied(1, 42, 20),
      (e: unknown) => e instanceof BitacoraError && e.code === 'APPLY_TIMEOUT' && e.details.offset === 42 && e.message.includes('APPLY_TIMEOUT_MS'),
    );
  });
});
