import { loadNodeConfig } from '../../src/config/node-config';
import { silentLogger } from '../../src/logging/logger';
import { type BitacoraNode, createNode } from '../../src/node/create-node';
import type { RunningStack } from '../../src/stack/stack';
import { sharedStack } from './shared-stack';
import { onTeardown } from './teardown';
import { uniqueName } from './unique';

/** The variables of a node on the shared test stack (or `stack`): its own name, a port the OS picks, loopback only. */
export async function testNodeEnv(overrides: Record<string, string> = {}, stack?: RunningStack): Promise<Record<string, string>> {
  stack ??= await sharedStack();
  return {
    BROKER_LIST: stack.kafkaBrokers.join(','),
    ZOOKEEPER_HOST: stack.zookeeperConnectString,
    NODENAME: uniqueName('node'),
    KAFKA_TOPIC: uniqueName('topic'),
    KAFKA_TOPIC_PARTITIONS: '3',
    API_PORT: '0',
    AVRO_PORT: '0',
    RESP_PORT: '0',
    BIND_HOST: '127.0.0.1',
    ADVERTISED_HOST: '127.0.0.1',
    KAFKA_CONNECT_TIMEOUT_MS: '20000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...overrides,
  };
}

/** Starts an in-process node (stopped after the test) and waits until it is ready unless told not to. */
export async function startTestNode(
  overrides: Record<string, string> = {},
  options: { waitReady?: boolean; stack?: RunningStack } = {},
): Promise<BitacoraNode> {
  const node = createNode(loadNodeConfig(await testNodeEnv(overrides, options.stack)), silentLogger());
  onTeardown(`node ${node.config.nodeName}`, () => node.stop());
  await node.start();
  if (options.waitReady !== false) await node.whenReady(30_000);
  return node;
}
