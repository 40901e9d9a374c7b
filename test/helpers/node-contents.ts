import assert from 'node:assert/strict';
import type { BitacoraNode } from '../../src/node/create-node';
import { type AcknowledgedModel, describe } from './acknowledged-model';
import { httpRequest } from './http-client';
import { foreignAdmin, recordsInTopic } from './kafka-client';

/**
 * After a fuzz run: every read the model recorded was right, every key holds its newest acknowledged value, the
 * node holds no other key (/stats), the topic holds no record but those of acknowledged writes (and at most the
 * uncertain ones), and the node still serves. Fails with the seed that replays the run.
 */
export async function assertHoldsAcknowledged(node: BitacoraNode, model: AcknowledgedModel, seed: number): Promise<void> {
  model.checkReads();
  let held = 0;
  let uncertainKeys = 0;
  for (const key of model.keys()) {
    const answer = await httpRequest(`${node.httpUrl}/rpc?key=${encodeURIComponent(key)}`, { headers: { Accept: 'application/octet-stream' } });
    const { values, offset } = model.expected(key);
    if (values.length > 1) uncertainKeys++;
    const value = answer.status === 200 ? answer.body : answer.status === 404 && answer.json?.error?.code === 'NOT_FOUND' ? null : undefined;
    if (value === undefined) {
      model.problems.push(`the final read of key ${JSON.stringify(key)} answered ${answer.status}`);
      continue;
    }
    if (value !== null) held++;
    if (!values.some((v) => (v === null ? value === null : value !== null && v.equals(value)))) {
      model.problems.push(`key ${JSON.stringify(key)} holds ${describe(value)}; acknowledged: ${values.map(describe).join(' or ')} (offset ${offset})`);
    }
    if (value !== null && values.length === 1 && offset >= 0 && Number(answer.headers.get('x-bitacora-offset')) !== offset) {
      model.problems.push(`key ${JSON.stringify(key)} holds offset ${answer.headers.get('x-bitacora-offset')}, not the newest acknowledged ${offset}`);
    }
  }
  const stats = await httpRequest(`${node.httpUrl}/stats`);
  // No key the model does not know: the map holds exactly the keys that hold a value (give or take uncertain ones).
  if (uncertainKeys === 0 ? stats.json.entries !== held : Math.abs(stats.json.entries - held) > uncertainKeys) {
    model.problems.push(`the node holds ${stats.json.entries} entries; the acknowledged writes leave ${held}`);
  }
  const records = await recordsInTopic(await foreignAdmin(), node.config.kafka.topic);
  const { min, max } = model.records;
  if (records < min || records > max) model.problems.push(`the topic holds ${records} records; acknowledged writes make ${min}${max > min ? ` to ${max}` : ''}`);
  assert.equal((await httpRequest(`${node.httpUrl}/health/live`)).status, 200, 'the node no longer answers /health/live');
  assert.equal(node.status, 'ready');
  if (model.problems.length > 0) {
    assert.fail(`FUZZ_SEED=${seed} replays this run; ${model.problems.length} problems:\n${model.problems.slice(0, 20).join('\n')}`);
  }
}
