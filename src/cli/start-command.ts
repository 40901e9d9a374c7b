import type { Environment } from '../config/env-parsers';
import { loadNodeConfig } from '../config/node-config';
import { loadStackConfig } from '../config/stack-config';
import { createLogger } from '../logging/logger';
import { type BitacoraNode, createNode } from '../node/create-node';
import { type RunningStack, stackStatus, startStack } from '../stack/stack';

/** The local cluster `npm start` runs: three nodes on fixed, documented ports. */
const LOCAL_NODES = [
  { name: 'node-1', apiPort: 8081, avroPort: 7081 },
  { name: 'node-2', apiPort: 8082, avroPort: 7082 },
  { name: 'node-3', apiPort: 8083, avroPort: 7083 },
] as const;

const READY_TIMEOUT_MS = 120_000;

/**
 * `bitacora start` (`npm start`): the local stack, unless `stack up` already runs one in STACK_DIR, plus a 3-node
 * cluster in this one foreground process. Ctrl-C stops the nodes, then the stack if this command started it.
 */
export async function runStartCommand(env: Environment, out: NodeJS.WritableStream): Promise<number> {
  const stackConfig = loadStackConfig(env);
  const baseConfig = loadNodeConfig({ ...env, NODENAME: LOCAL_NODES[0].name });
  const logger = createLogger({ level: baseConfig.logLevel, name: 'bitacora' });

  let ownedStack: RunningStack | undefined;
  const nodes: BitacoraNode[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.allSettled(nodes.map((node) => node.stop()));
      await ownedStack?.stop();
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
      out.write(`starting ZooKeeper and Kafka in ${stackConfig.dir} (the first run downloads Kafka's jars with Maven)...\n`);
      ownedStack = await startStack({ ...stackConfig, logger, env });
      brokers = ownedStack.kafkaBrokers;
      zookeeper = ownedStack.zookeeperConnectString;
    }
    out.write(`zookeeper ${zookeeper}\nkafka     ${brokers.join(',')}\n`);

    for (const spec of LOCAL_NODES) {
      const config = loadNodeConfig({
        ...env,
        NODENAME: spec.name,
        API_PORT: String(spec.apiPort),
        AVRO_PORT: String(spec.avroPort),
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
      '',
      'Ctrl-C stops everything this command started.',
      '',
    ].join('\n'),
  );
  return stopped;
}
