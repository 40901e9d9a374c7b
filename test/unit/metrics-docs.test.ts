import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadNodeConfig } from '../../src/config/node-config';
import { silentLogger } from '../../src/logging/logger';
import { createNode } from '../../src/node/create-node';

describe('metrics docs', () => {
  it('list exactly the bitacora_* metrics a node registers, with their types', async () => {
    // createNode has no side effects: nothing connects, but the registry is complete.
    const node = createNode(loadNodeConfig({ NODENAME: 'docs' }), silentLogger());
    const registered = (await node.metrics.registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('bitacora_'));
    const doc = readFileSync(path.join(__dirname, '../../docs/metrics.md'), 'utf8');
    const documented = new Map([...doc.matchAll(/^\| `(bitacora_[a-z_]+)` \| ([a-z]+)/gm)].map((m) => [m[1], m[2]]));
    for (const metric of registered) {
      assert.ok(documented.has(metric.name), `${metric.name} is registered but not in docs/metrics.md`);
      assert.equal(documented.get(metric.name), String(metric.type), `${metric.name}'s type`);
      assert.match(metric.name, /^bitacora_[a-z_]+$/);
      if (String(metric.type) === 'counter') assert.match(metric.name, /_total$/, `${metric.name}: counters end in _total`);
    }
    for (const name of documented.keys()) {
      assert.ok(registered.some((m) => m.name === name), `${name} is in docs/metrics.md but not registered`);
    }
  });
});
