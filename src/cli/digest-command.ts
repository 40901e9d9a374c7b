import type { Environment } from '../config/env-parsers';
import { EXIT_CODES } from '../errors/error-codes';
import { loadNodeConfig } from '../config/node-config';
import { createLogger } from '../logging/logger';
import { createKafkaClient } from '../log/kafka-client';
import { readTopicDigest } from '../log/topic-digest';
import { digestDifferences, type PartitionDigest } from '../store/content-digest';

const USAGE = `usage: bitacora digest [--nodes URL[,URL...]] [--timeout MS]

  Replays KAFKA_TOPIC from BROKER_LIST (as a node would, with its MAX_KEY_BYTES/MAX_VALUE_BYTES) and prints
  each partition's end offset, key count and digest as JSON. With --nodes, also asks each node's
  GET /debug/digest and says whether it holds exactly the topic's contents.
  Exit codes: 0 converged (or no --nodes), 1 some node differs or did not answer, 2 usage, 5 failure.
`;

/** Exit code when a node differs from the topic: the catalogue's "negative" answer, as an absent key's. */
export const NOT_CONVERGED_EXIT_CODE = EXIT_CODES.negative;
const DEFAULT_TIMEOUT_MS = 60_000;

/** `bitacora digest`: the convergence probe's topic side, and an optional comparison with running nodes. */
export async function runDigestCommand(args: string[], env: Environment, out: NodeJS.WritableStream): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed === 'help') {
    out.write(USAGE);
    return 0;
  }
  if (typeof parsed === 'string') {
    out.write(`bitacora digest: ${parsed}\n${USAGE}`);
    return EXIT_CODES.usage;
  }
  const config = loadNodeConfig(env);
  const logger = createLogger({ level: 'warn', name: 'bitacora-digest' });
  const kafka = createKafkaClient({ clientId: 'bitacora-digest', brokers: config.kafka.brokers, security: config.kafka.security, logger });
  const topic = await readTopicDigest({ kafka, topic: config.kafka.topic, limits: config.limits, timeoutMs: parsed.timeoutMs, logger });
  const report: Record<string, unknown> = { ...topic };
  let converged = true;
  if (parsed.nodes.length > 0) {
    report.nodes = await Promise.all(
      parsed.nodes.map(async (url) => {
        try {
          const node = await fetchNodeDigest(url, config.authToken, parsed.timeoutMs);
          const differences = digestDifferences(topic.partitions, node.partitions);
          if (differences.length > 0) converged = false;
          return { url, node: node.node, converged: differences.length === 0, differences };
        } catch (error) {
          converged = false;
          return { url, converged: false, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    report.converged = converged;
  }
  out.write(`${JSON.stringify(report, null, 2)}\n`);
  return converged ? 0 : NOT_CONVERGED_EXIT_CODE;
}

async function fetchNodeDigest(url: string, authToken: string | undefined, timeoutMs: number): Promise<{ node: string; partitions: PartitionDigest[] }> {
  const response = await fetch(new URL('/debug/digest', url), {
    headers: authToken ? { authorization: `Bearer ${authToken}` } : {},
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status !== 200) throw new Error(`GET /debug/digest answered ${response.status}`);
  return (await response.json()) as { node: string; partitions: PartitionDigest[] };
}

function parseArgs(args: string[]): { nodes: string[]; timeoutMs: number } | 'help' | string {
  const result = { nodes: [] as string[], timeoutMs: DEFAULT_TIMEOUT_MS };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    const value = args[i + 1];
    if (arg === '--nodes' && value) {
      result.nodes.push(...value.split(',').map((url) => url.trim()).filter(Boolean));
      i++;
    } else if (arg === '--timeout' && value && /^\d+$/.test(value) && Number(value) > 0) {
      result.timeoutMs = Number(value);
      i++;
    } else {
      return `unknown or incomplete argument "${arg}"`;
    }
  }
  for (const url of result.nodes) {
    if (!URL.canParse(url)) return `--nodes takes http://host:port URLs, got "${url}"`;
  }
  return result;
}
