import type { ScenarioName } from '../options';
import { avroScenario } from './avro';
import { bootstrapScenario } from './bootstrap';
import { cGeneratorsScenario } from './c-generators';
import { fanOutScenario } from './fan-out';
import { nodeKeysScenario } from './node-keys';
import { readsScenario } from './reads';
import { redisScenario } from './redis';
import { replicationScenario } from './replication';
import type { Scenario } from './scenario';
import { storeScenario } from './store';
import { writesScenario } from './writes';

/** Every scenario by name; a new one (say, a pipelined Avro client) is one file and one line here. */
export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  store: storeScenario,
  bootstrap: bootstrapScenario,
  'node-keys': nodeKeysScenario,
  reads: readsScenario,
  writes: writesScenario,
  avro: avroScenario,
  redis: redisScenario,
  'c-generators': cGeneratorsScenario,
  replication: replicationScenario,
  'fan-out': fanOutScenario,
};
