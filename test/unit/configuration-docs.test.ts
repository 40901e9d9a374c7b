import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { variablesInConfigModule } from '../helpers/config-variables';

const root = path.join(__dirname, '../..');

describe('configuration docs', () => {
  const code = variablesInConfigModule();
  const doc = readFileSync(path.join(root, 'docs/configuration.md'), 'utf8');
  const example = readFileSync(path.join(root, '.env.example'), 'utf8');
  const documented = new Set([...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
  const exampled = new Set([...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]));

  it('finds the variables in the config module', () => {
    assert.ok(code.has('BROKER_LIST') && code.has('ZOOKEEPER_HOSTS') && code.has('ZK_PORT'), [...code].join(','));
  });

  it('documents every variable the config module reads, and no other', () => {
    const aliases = new Set(['ZOOKEEPER_HOSTS']);
    assert.deepEqual([...code].filter((v) => !documented.has(v) && !aliases.has(v)).sort(), [], 'read but not in docs/configuration.md');
    assert.deepEqual([...documented].filter((v) => !code.has(v)).sort(), [], 'in docs/configuration.md but not read');
  });

  it('lists every variable in .env.example with a comment, and no other', () => {
    const aliases = new Set(['ZOOKEEPER_HOSTS']);
    assert.deepEqual([...code].filter((v) => !exampled.has(v) && !aliases.has(v)).sort(), [], 'read but not in .env.example');
    assert.deepEqual([...exampled].filter((v) => !code.has(v)).sort(), [], 'in .env.example but not read');
    const lines = example.split('\n');
    lines.forEach((line, i) => {
      if (/^[A-Z0-9_]+=/.test(line)) assert.match(lines[i - 1] ?? '', /^#/, `${line} has no comment line above it`);
    });
  });
});
