import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import { brokerPorts, loadStackConfig } from '../../src/config/stack-config';

describe('stack config', () => {
  const cwd = '/work/project';

  it('has the documented defaults', () => {
    const config = loadStackConfig({ HOME: '/home/dev' }, cwd);
    assert.deepEqual(config, {
      zkPort: 2181,
      kafkaPort: 9092,
      kafkaControllerPort: 9093,
      brokers: 1,
      saslPort: 9094,
      saslPlain: undefined,
      dir: '/work/project/.stack',
      cacheDir: '/home/dev/.cache/bitacora',
      startTimeoutMs: 90_000,
      kafkaVersion: '4.4.0',
    });
    assert.ok(Object.isFrozen(config));
  });

  it('reads every variable', () => {
    const config = loadStackConfig(
      {
        ZK_PORT: '12181',
        KAFKA_PORT: '19092',
        KAFKA_CONTROLLER_PORT: '19093',
        STACK_BROKERS: '3',
        STACK_SASL_PORT: '19094',
        STACK_SASL_USERNAME: 'alice',
        STACK_SASL_PASSWORD: 'secret',
        STACK_DIR: '/tmp/my-stack',
        STACK_CACHE_DIR: '/var/cache/bitacora',
        STACK_START_TIMEOUT_MS: '5000',
        STACK_KAFKA_VERSION: '3.9.1',
      },
      cwd,
      { saslPlain: true },
    );
    assert.deepEqual(config, {
      zkPort: 12181,
      kafkaPort: 19092,
      kafkaControllerPort: 19093,
      brokers: 3,
      saslPort: 19094,
      saslPlain: { username: 'alice', password: 'secret' },
      dir: '/tmp/my-stack',
      cacheDir: '/var/cache/bitacora',
      startTimeoutMs: 5000,
      kafkaVersion: '3.9.1',
    });
  });

  it('lets --kafka-version override STACK_KAFKA_VERSION, and refuses a release the stack cannot run', () => {
    assert.equal(loadStackConfig({ STACK_KAFKA_VERSION: '4.4.0' }, cwd, { kafkaVersion: '3.9.1' }).kafkaVersion, '3.9.1');
    assert.throws(() => loadStackConfig({ STACK_KAFKA_VERSION: '2.8.0' }, cwd), (error: unknown) => error instanceof ConfigError && error.variable === 'STACK_KAFKA_VERSION' && /4\.4\.0, 3\.9\.1/.test(error.message));
    assert.throws(() => loadStackConfig({}, cwd, { kafkaVersion: 'latest' }), (error: unknown) => error instanceof ConfigError && error.variable === '--kafka-version');
  });

  it('resolves relative folders against the working directory', () => {
    const config = loadStackConfig({ STACK_DIR: 'tmp/stack', STACK_CACHE_DIR: '../cache' }, cwd);
    assert.equal(config.dir, '/work/project/tmp/stack');
    assert.equal(config.cacheDir, '/work/cache');
  });

  it('puts the cache under XDG_CACHE_HOME when it is an absolute path', () => {
    assert.equal(loadStackConfig({ XDG_CACHE_HOME: '/xdg/cache', HOME: '/home/dev' }, cwd).cacheDir, '/xdg/cache/bitacora');
    assert.equal(loadStackConfig({ XDG_CACHE_HOME: 'relative', HOME: '/home/dev' }, cwd).cacheDir, '/home/dev/.cache/bitacora');
  });

  it('falls back to the OS home folder without HOME', () => {
    assert.ok(path.isAbsolute(loadStackConfig({}, cwd).cacheDir));
  });

  it('accepts port 0, which picks free ports, even for several variables and brokers', () => {
    const config = loadStackConfig({ ZK_PORT: '0', KAFKA_PORT: '0', KAFKA_CONTROLLER_PORT: '0', STACK_BROKERS: '9' }, cwd);
    assert.deepEqual([config.zkPort, config.kafkaPort, config.kafkaControllerPort, config.brokers], [0, 0, 0, 9]);
  });

  it('lets --brokers override STACK_BROKERS', () => {
    assert.equal(loadStackConfig({ STACK_BROKERS: '1' }, cwd, { brokers: '3' }).brokers, 3);
  });

  it('gives broker i the first broker ports plus 3·(i−1): consecutive blocks with the defaults', () => {
    const config = loadStackConfig({ STACK_BROKERS: '3' }, cwd);
    assert.deepEqual(
      [1, 2, 3].map((nodeId) => brokerPorts(config, nodeId)),
      [
        { port: 9092, controllerPort: 9093, saslPort: 9094 },
        { port: 9095, controllerPort: 9096, saslPort: 9097 },
        { port: 9098, controllerPort: 9099, saslPort: 9100 },
      ],
    );
    assert.deepEqual(brokerPorts({ kafkaPort: 0, kafkaControllerPort: 0, saslPort: 0 }, 2), { port: 0, controllerPort: 0, saslPort: 0 });
  });

  it('ignores the SASL user unless --sasl-plain asks for the listener', () => {
    assert.equal(loadStackConfig({ STACK_SASL_USERNAME: 'alice', STACK_SASL_PASSWORD: 'secret' }, cwd).saslPlain, undefined);
  });

  it('never puts the SASL password in an error message', () => {
    assert.throws(
      () => loadStackConfig({ STACK_SASL_USERNAME: 'alice', STACK_SASL_PASSWORD: 'top\nsecret' }, cwd, { saslPlain: true }),
      (error: unknown) => error instanceof ConfigError && error.variable === 'STACK_SASL_PASSWORD' && !error.message.includes('secret'),
    );
  });

  const refusals: Array<[Record<string, string>, string, { brokers?: string; saslPlain?: boolean }?]> = [
    [{ ZK_PORT: 'zk' }, 'ZK_PORT'],
    [{ KAFKA_PORT: '65536' }, 'KAFKA_PORT'],
    [{ KAFKA_CONTROLLER_PORT: '-1' }, 'KAFKA_CONTROLLER_PORT'],
    [{ STACK_START_TIMEOUT_MS: '10' }, 'STACK_START_TIMEOUT_MS'],
    [{ STACK_START_TIMEOUT_MS: '1.5' }, 'STACK_START_TIMEOUT_MS'],
    [{ KAFKA_PORT: '2181' }, 'KAFKA_PORT'],
    [{ KAFKA_CONTROLLER_PORT: '9092' }, 'KAFKA_CONTROLLER_PORT'],
    [{ STACK_BROKERS: '0' }, 'STACK_BROKERS'],
    [{ STACK_BROKERS: '10' }, 'STACK_BROKERS'],
    [{ STACK_BROKERS: 'three' }, 'STACK_BROKERS'],
    [{}, '--brokers', { brokers: '0' }],
    [{}, '--brokers', { brokers: '2.5' }],
    // Broker 2 of 3 would listen on 9095.
    [{ STACK_BROKERS: '3', ZK_PORT: '9095' }, 'KAFKA_PORT'],
    // Broker 2's PLAINTEXT port (9095) would be broker 1's controller port.
    [{ STACK_BROKERS: '2', KAFKA_CONTROLLER_PORT: '9095' }, 'KAFKA_PORT'],
    [{ STACK_BROKERS: '3', KAFKA_PORT: '65530', KAFKA_CONTROLLER_PORT: '19093' }, 'KAFKA_PORT'],
    [{ STACK_SASL_PASSWORD: 'secret' }, 'STACK_SASL_USERNAME', { saslPlain: true }],
    [{ STACK_SASL_USERNAME: 'alice' }, 'STACK_SASL_PASSWORD', { saslPlain: true }],
    [{ STACK_SASL_USERNAME: 'al ice', STACK_SASL_PASSWORD: 'secret' }, 'STACK_SASL_USERNAME', { saslPlain: true }],
    [{ STACK_SASL_USERNAME: 'alice', STACK_SASL_PASSWORD: 'secret', STACK_SASL_PORT: '9093' }, 'STACK_SASL_PORT', { saslPlain: true }],
  ];
  for (const [env, variable, overrides] of refusals) {
    it(`refuses ${JSON.stringify(env)}${overrides ? ` with ${JSON.stringify(overrides)}` : ''} naming ${variable}`, () => {
      assert.throws(
        () => loadStackConfig(env, cwd, overrides),
        (error: unknown) => error instanceof ConfigError && error.variable === variable && error.message.includes(variable),
      );
    });
  }
});
