import assert from 'node:assert/strict';
import { formatProfileSummary, summarizeProfile, type CpuProfile } from '../../bench/profile-summary';

describe('bench: CPU profile summary', () => {
  it('adds up self time per function, leaving idle time out of the shares', () => {
    const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 4] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('get', 'file:///x/node_modules/pkg/a.js', 9) },
        { id: 4, callFrame: frame('') },
      ],
      samples: [2, 3, 3, 4, 2, 3],
      timeDeltas: [5_000, 1_000, 1_000, 500, 5_000, 1_000],
      startTime: 0,
      endTime: 13_500,
    };
    const summary = summarizeProfile(profile);
    assert.equal(summary.totalMs, 13.5);
    assert.equal(summary.idleMs, 10);
    assert.equal(summary.busyMs, 3.5);
    assert.deepEqual(summary.top[0], { name: 'get', where: 'pkg/a.js:10', ms: 3, busyShare: 3 / 3.5 });
    assert.equal(summary.top[1]!.name, '(anonymous)');
    assert.match(formatProfileSummary(summary), /85\.7%  get  \(pkg\/a\.js:10\)/);
  });
});
