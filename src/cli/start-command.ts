import type { Environment } from '../config/env-parsers';
import { loadStartConfig } from '../config/start-config';
import { loadNodeConfig } from '../config/node-config';
import { loadStackConfig } from '../config/stack-config';
import { createLogger } from '../logging/logger';
import { type BitacoraNode, createNode } from '../node/create-node';
import { type RunningStack, stackStatus, startStack } from '../stack/stack';
import { EXIT_CODES } from '../errors/error-codes';

/** The local cluster `npm start` runs: three nodes on documented ports (START_API_PORT and START_AVRO_PORT onwards). */
const LOCAL_NODE_NAMES = ['node-1', 'node-2', 'node-3'] as const;

const READY_TIMEOUT_MS = 120_000;

/**
 * `bitacora start` (`npm start`): the local stack, unless `stack up` already runs one in STACK_DIR, plus a 3-node
 * cluster in this one foreground process. Ctrl-C stops the nodes, then the stack if this command started it.
 */
export async function runStartCommand(env: Environment, out: NodeJS.WritableStream): Promise<number> {
  const stackConfig = loadStackConfig(env);
  const baseConfig = loadNodeConfig({ ...env, NODENAME: LOCAL_NODE_NAMES[0] });
  const logger = createLogger({ level: baseConfig.logLevel, format: baseConfig.logFormat, name: 'bitacora' });

  const ports = loadStartConfig(env);
  let ownedStack: RunningStack | undefined;
  const nodes: BitacoraNode[] = [];
  let stopping: Promise<void> | undefined;
  // Nodes first, while Kafka and ZooKeeper still answer them (a node that loses Kafka under it logs connection
  // errors for seconds); then every broker; then ZooKeeper. One line a step.
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      if (nodes.length > 0) {
        await Promise.allSettled(nodes.map((node) => node.stop()));
        out.write(`  nodes stopped (${nodes.map((node) => node.config.nodeName).join(', ')})\n`);
      }
      if (!ownedStack) return;
      await Promise.allSettled(ownedStack.kafka.map((broker) => broker.stop()));
      out.write(`  kafka stopped\n`);
      await ownedStack.zookeeper.stop().catch(() => undefined);
      out.write(`  zookeeper stopped\n`);
      await ownedStack.stop();
    })());

  let signals = 0;
  const stopped = new Promise<number>((resolve) => {
    const onSignal = (): void => {
      if (++signals > 1) process.exit(130);
      out.write('\nstopping the cluster...\n');
      stopAll().then(() => resolve(0), () => resolve(1));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  try {
    const status = await stackStatus({ dir: stackConfig.dir, logger });
    let brokers: readonly string[];
    let zookeeper: string;
    if (status.state === 'running' && status.recorded) {
      brokers = status.recorded.kafkaBrokers;
      zookeeper = status.recorded.zookeeperConnectString;
      out.write(`using the stack already running in ${stackConfig.dir}\n`);
    } else {
      out.write(`starting ZooKeeper and Kafka ${stackConfig.kafkaVersion} in ${stackConfig.dir} (the first run downloads their jars with Maven)...\n`);
      ownedStack = await startStack({ ...stackConfig, logger, env });
      brokers = ownedStack.kafkaBrokers;
      zookeeper = ownedStack.zookeeperConnectString;
    }
    const version = ownedStack?.kafkaVersion ?? status.recorded?.kafkaVersion;
    out.write(`zookeeper ${zookeeper}\nkafka     ${brokers.join(',')}${version ? ` (Kafka ${version})` : ''}\n`);

    for (const [index, name] of LOCAL_NODE_NAMES.entries()) {
      const config = loadNodeConfig({
        ...env,
        NODENAME: name,
        API_PORT: String(ports.apiPort + index),
        AVRO_PORT: String(ports.avroPort + index),
        RESP_PORT: String(ports.respPort + index),
        BROKER_LIST: brokers.join(','),
        ZOOKEEPER_HOST: zookeeper,
      });
      nodes.push(createNode(config, logger));
    }
    // One at a time: the first creates the topic, and the others then find it.
    for (const node of nodes) await node.start();
    await Promise.all(nodes.map((node) => node.whenReady(READY_TIMEOUT_MS)));
  } catch (error) {
    await stopAll();
    throw error;
  }

  const first = nodes[0].httpUrl;
  out.write(
    [
      '',
      'Bitacora is running:',
      ...nodes.map((node) => `  ${node.config.nodeName}  ${node.httpUrl}  (health: ${node.httpUrl}/health/ready)`),
      '',
      'Try:',
      `  curl -X POST '${first}/rpc?key=hello&value=world'`,
      `  curl '${nodes[1].httpUrl}/rpc?key=hello'`,
      `  curl -X DELETE '${first}/rpc?key=hello'`,
      `  redis-cli -p ${ports.respPort} set hello world && redis-cli -p ${ports.respPort + 1} get hello`,
      '',
      'Ctrl-C stops everything this command started.',
      '',
    ].join('\n'),
  );
  // A node that fails for good (its apply path spent APPLY_RESTARTS) ends the whole local cluster with the catalogue's "failed" status.
  const failed = Promise.race(
    nodes.map((node) =>
      node.whenFailed().then(async (error) => {
        out.write(`\nnode ${node.config.nodeName} failed: ${error.message}\nstopping the cluster...\n`);
        await stopAll().catch(() => undefined);
        return EXIT_CODES.failed;
      }),
    ),
  );
  return Promise.race([stopped, failed]);
}
