import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError } from '../../src/config/config-error';
import { loadStackConfig } from '../../src/config/stack-config';

describe('stack config', () => {
  const cwd = '/work/project';

  it('has the documented defaults', () => {
    const config = loadStackConfig({ HOME: '/home/dev' }, cwd);
    assert.deepEqual(config, {
      zkPort: 2181,
      kafkaPort: 9092,
      kafkaControllerPort: 9093,
      dir: '/work/project/.stack',
      cacheDir: '/home/dev/.cache/bitacora',
      startTimeoutMs: 90_000,
    });
    assert.ok(Object.isFrozen(config));
  });

  it('reads every variable', () => {
    const config = loadStackConfig(
      {
        ZK_PORT: '12181',
        KAFKA_PORT: '19092',
        KAFKA_CONTROLLER_PORT: '19093',
        STACK_DIR: '/tmp/my-stack',
        STACK_CACHE_DIR: '/var/cache/bitacora',
        STACK_START_TIMEOUT_MS: '5000',
      },
      cwd,
    );
    assert.deepEqual(config, {
      zkPort: 12181,
      kafkaPort: 19092,
      kafkaControllerPort: 19093,
      dir: '/tmp/my-stack',
      cacheDir: '/var/cache/bitacora',
      startTimeoutMs: 5000,
    });
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

  it('accepts port 0, which picks free ports, even for several variables', () => {
    const config = loadStackConfig({ ZK_PORT: '0', KAFKA_PORT: '0', KAFKA_CONTROLLER_PORT: '0' }, cwd);
    assert.deepEqual([config.zkPort, config.kafkaPort, config.kafkaControllerPort], [0, 0, 0]);
  });

  const refusals: Array<[Record<string, string>, string]> = [
    [{ ZK_PORT: 'zk' }, 'ZK_PORT'],
    [{ KAFKA_PORT: '65536' }, 'KAFKA_PORT'],
    [{ KAFKA_CONTROLLER_PORT: '-1' }, 'KAFKA_CONTROLLER_PORT'],
    [{ STACK_START_TIMEOUT_MS: '10' }, 'STACK_START_TIMEOUT_MS'],
    [{ STACK_START_TIMEOUT_MS: '1.5' }, 'STACK_START_TIMEOUT_MS'],
    [{ KAFKA_PORT: '2181' }, 'KAFKA_PORT'],
    [{ KAFKA_CONTROLLER_PORT: '9092' }, 'KAFKA_CONTROLLER_PORT'],
  ];
  for (const [env, variable] of refusals) {
    it(`refuses ${JSON.stringify(env)} naming ${variable}`, () => {
      assert.throws(
        () => loadStackConfig(env, cwd),
        (error: unknown) => error instanceof ConfigError && error.variable === variable && error.message.includes(variable),
      );
    });
  }
});
