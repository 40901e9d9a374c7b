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

  it('measures lag against the end the broker reports, not against the position', () => {
    const positions = new PartitionPositions();
    positions.initialize([{ partition: 0, low: 0, high: 10 }]);
    positions.advance(0, 10);
    positions.observeEnd(0, 25);
    assert.deepEqual(positions.snapshot(), [{ partition: 0, position: 10, endAtStart: 10, end: 25, lag: 15 }]);
    assert.equal(positions.isCaughtUp(0), false);
    positions.advance(0, 25);
    assert.equal(positions.snapshot()[0]!.lag, 0);
    assert.equal(positions.isCaughtUp(0), true);
  });

  it('reports a partition whose position stays still while the broker holds records past it', () => {
    let now = 1_000;
    const positions = new PartitionPositions(() => now);
    positions.initialize([{ partition: 0, low: 0, high: 0 }, { partition: 1, low: 0, high: 0 }]);
    positions.observeEnd(0, 5);
    positions.observeEnd(1, 0);
    now += 29_999;
    positions.observeEnd(0, 6);
    assert.deepEqual(positions.stalled(30_000), []);
    now += 1;
    assert.deepEqual(positions.stalled(30_000), [{ partition: 0, position: 0, end: 6, waitingMs: 30_000 }]);
    // Moving at all resets the wait.
    positions.advance(0, 1);
    assert.deepEqual(positions.stalled(30_000), []);
  });

  it('is neither ready nor caught up while the apply path is failed, and is again once cleared', () => {
    const positions = new PartitionPositions();
    positions.initialize([{ partition: 0, low: 0, high: 0 }]);
    assert.equal(positions.isReady(), true);
    positions.markFailed({ kind: 'apply_error', reason: 'refused', since: 0, partition: 0 });
    assert.equal(positions.isReady(), false);
    assert.equal(positions.isCaughtUp(0), false);
    assert.equal(positions.isLoaded(), true);
    positions.clearFailure();
    assert.equal(positions.isReady(), true);
    assert.equal(positions.isCaughtUp(0), true);
  });

  describe('deletes a partition may have missed (behind longer than delete.retention.ms)', () => {
    function setup() {
      const clock = { now: 0 };
      const positions = new PartitionPositions(() => clock.now);
      positions.setDeleteRetention(10_000);
      return { clock, positions };
    }

    it('flags a load that took longer than delete.retention.ms', () => {
      const { clock, positions } = setup();
      positions.initialize([{ partition: 0, low: 0, high: 100 }, { partition: 1, low: 0, high: 0 }]);
      positions.advance(0, 1);
      clock.now = 10_001;
      positions.advance(0, 100);
      assert.deepEqual(positions.deletesMaybeMissed(), [0]);
    });

    it('counts from the first record applied: a partition the map holds nothing of cannot have missed a delete', () => {
      const { clock, positions } = setup();
      positions.initialize([{ partition: 0, low: 0, high: 100 }]);
      clock.now = 20_000;
      positions.observeEnd(0, 100);
      assert.deepEqual(positions.deletesMaybeMissed(), []);
      positions.advance(0, 50);
      clock.now = 29_000;
      positions.advance(0, 100);
      assert.deepEqual(positions.deletesMaybeMissed(), []);
    });

    it('does not flag a load shorter than delete.retention.ms, nor a node that keeps catching up', () => {
      const { clock, positions } = setup();
      positions.initialize([{ partition: 0, low: 0, high: 100 }]);
      positions.advance(0, 1);
      clock.now = 9_000;
      positions.advance(0, 100);
      positions.observeEnd(0, 100);
      // Behind all the time, but each end the broker reported is reached before delete.retention.ms passes.
      for (let i = 1; i <= 10; i++) {
        clock.now += 2_000;
        positions.observeEnd(0, 100 + i * 10);
        clock.now += 1_000;
        positions.advance(0, 100 + i * 10);
      }
      assert.deepEqual(positions.deletesMaybeMissed(), []);
    });

    it('flags a lag that outlasts delete.retention.ms, seen while still behind', () => {
      const { clock, positions } = setup();
      positions.initialize([{ partition: 0, low: 0, high: 0 }]);
      positions.observeEnd(0, 1);
      positions.advance(0, 1);
      clock.now = 1_000;
      positions.observeEnd(0, 50); // read everything up to t=0 only
      clock.now = 10_000;
      positions.observeEnd(0, 60);
      assert.deepEqual(positions.deletesMaybeMissed(), []);
      clock.now = 10_001;
      positions.observeEnd(0, 70);
      assert.deepEqual(positions.deletesMaybeMissed(), [0]);
      // It stays flagged: the map may hold a deleted key until the node rebuilds it.
      positions.advance(0, 70);
      positions.observeEnd(0, 70);
      assert.deepEqual(positions.deletesMaybeMissed(), [0]);
    });
  });
});
