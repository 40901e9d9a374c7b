import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { nodeVariables, variablesInConfigModule, variablesInEnvExample } from '../helpers/config-variables';

const root = path.join(__dirname, '../..');

/**
 * The Compose specification's JSON schema (compose-spec/compose-spec, schema/compose-spec.json), as shipped by the
 * dclint package: `dclint/schemas/compose.schema.json`. Its package exports hide the file, so it is found beside
 * dclint's package.json.
 */
function composeSpecSchema(): Record<string, unknown> {
  const file = path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json');
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string | string[] };
  ports?: string[];
}

const composeText = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
// `merge: true` resolves the `<<:` keys the file uses to share the node settings, as Compose does.
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const nodes = Object.entries(services).filter(([, service]) => service.build !== undefined);

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((item) => [item.split('=')[0], item.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function healthcheckCommand(service: Service): string {
  const test = service.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : (test ?? '');
}

describe('docker-compose.yml', () => {
  // The schema is draft-07 and declares it with an https URL ajv does not know; its meta-schema is not needed.
  const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
  let validate: ReturnType<Ajv['compile']>;
  before(() => {
    validate = ajv.compile(composeSpecSchema());
  });

  it('is valid against the Compose specification', () => {
    const valid = validate(parse(composeText, { merge: true }));
    assert.ok(valid, `docker-compose.yml does not follow the Compose specification:\n${ajv.errorsText(validate.errors, { separator: '\n' })}`);
  });

  it('is checked for real: the same file with a misspelt healthcheck key is refused', () => {
    const broken = parse(composeText, { merge: true }) as { services: Record<string, { healthcheck: Record<string, unknown> }> };
    broken.services['node-1'].healthcheck.intervall = '5s';
    assert.equal(validate(broken), false);
    assert.match(ajv.errorsText(validate.errors), /additional properties/);
  });

  it('runs ZooKeeper, Kafka in KRaft mode and three nodes, each with a healthcheck', () => {
    assert.equal(services.kafka?.image, 'apache/kafka:3.9.1');
    assert.match(String(environmentOf(services.kafka).KAFKA_PROCESS_ROLES), /broker,controller/);
    assert.match(healthcheckCommand(services.kafka), /kafka-broker-api-versions\.sh --bootstrap-server localhost:9092/);
    assert.match(services.zookeeper?.image ?? '', /^zookeeper:/);
    assert.match(healthcheckCommand(services.zookeeper), /ruok/);
    assert.match(environmentOf(services.zookeeper).ZOO_4LW_COMMANDS_WHITELIST ?? '', /\bruok\b/, 'the ruok healthcheck needs ruok whitelisted');
    assert.deepEqual(nodes.map(([name]) => name).sort(), ['node-1', 'node-2', 'node-3']);
    for (const [name, node] of nodes) {
      assert.match(healthcheckCommand(node), /\/health\/ready/, `${name} healthcheck`);
      assert.ok(!Array.isArray(node.depends_on) && node.depends_on, `${name} depends_on with conditions`);
      for (const dependency of ['kafka', 'zookeeper']) {
        assert.equal(node.depends_on[dependency]?.condition, 'service_healthy', `${name} waits for a healthy ${dependency}`);
      }
    }
  });

  it('gives each node its own name, advertised host and host ports, wired to the ports it listens on', () => {
    const names = new Set<string>();
    const hostPorts = new Set<string>();
    for (const [name, node] of nodes) {
      const env = environmentOf(node);
      names.add(env.NODENAME);
      assert.equal(env.ADVERTISED_HOST, name, `${name}: peers reach it by its service name`);
      const containerPorts = (node.ports ?? []).map((p) => {
        // [host_ip:]host_port:container_port
        const [containerPort, hostPort, hostIp] = p.split(':').reverse();
        assert.equal(hostIp, '127.0.0.1', `${name} publishes ${p} on loopback only`);
        assert.ok(!hostPorts.has(hostPort), `host port ${hostPort} is used twice`);
        hostPorts.add(hostPort);
        return containerPort;
      });
      assert.deepEqual(containerPorts.sort(), [env.API_PORT, env.AVRO_PORT, env.RESP_PORT].sort(), `${name} publishes API_PORT, AVRO_PORT and RESP_PORT`);
      assert.match(healthcheckCommand(node), new RegExp(`127\\.0\\.0\\.1:${env.API_PORT}/health/ready`), `${name} healthcheck asks API_PORT`);
      assert.equal(env.BROKER_LIST, 'kafka:9092');
      assert.equal(env.ZOOKEEPER_HOST, 'zookeeper:2181');
    }
    assert.equal(names.size, nodes.length, 'NODENAME must be unique');
  });

  it('passes the nodes only variables the config module reads, and every one a node reads', () => {
    const real = nodeVariables();
    const required = ['BROKER_LIST', 'ZOOKEEPER_HOST', 'NODENAME', 'ADVERTISED_HOST', 'API_PORT', 'AVRO_PORT', 'RESP_PORT', 'KAFKA_TOPIC'];
    assert.ok(required.every((v) => real.has(v)), 'the config module reads the variables compose must set');
    for (const [name, node] of nodes) {
      const passed = Object.keys(environmentOf(node));
      assert.deepEqual(passed.filter((v) => !real.has(v)), [], `${name} sets variables no node reads`);
      assert.deepEqual(required.filter((v) => !passed.includes(v)), [], `${name} misses variables a node needs in a container`);
      const aliases = new Set(['ZOOKEEPER_HOSTS']);
      // Test hooks (TEST_HOOK_*) break a node on purpose: tests set them, a deployment never passes them.
      const testOnly = (v: string): boolean => v.startsWith('TEST_HOOK_');
      assert.deepEqual([...real].filter((v) => !passed.includes(v) && !aliases.has(v) && !testOnly(v)), [], `${name} does not pass every node variable`);
    }
  });

  it('takes the other variables from the shell or .env under the names of .env.example, blank meaning the default', () => {
    const example = variablesInEnvExample(readFileSync(path.join(root, '.env.example'), 'utf8'));
    const known = variablesInConfigModule();
    for (const [name, node] of nodes) {
      for (const [variable, value] of Object.entries(environmentOf(node))) {
        const references = [...value.matchAll(/\$\{([A-Za-z0-9_]+)([^}]*)\}/g)];
        for (const [, referenced, rest] of references) {
          assert.equal(referenced, variable, `${name}: ${variable} must be set from the variable of the same name`);
          assert.ok(example.has(referenced) && known.has(referenced), `${name}: ${referenced} is not in .env.example`);
          assert.equal(rest, ':-', `${name}: ${variable} should default to blank (the node's own default), got \${${referenced}${rest}}`);
        }
      }
    }
    // Anything interpolated anywhere in the file must be a variable .env.example documents.
    const everywhere = [...composeText.matchAll(/\$\{([A-Za-z0-9_]+)/g)].map((m) => m[1]);
    assert.deepEqual(everywhere.filter((v) => !example.has(v)), [], 'interpolated but not in .env.example');
  });
});
