import { silentLogger } from '../../src/logging/logger';
import { readTopicDigest, type TopicDigest } from '../../src/log/topic-digest';
import { waitFor, WaitTimeoutError } from '../../src/retry/retry';
import { digestDifferences, type PartitionDigest } from '../../src/store/content-digest';
import { httpRequest, rpcQuery } from './http-client';
import type { KeyLedger } from './write-load';

/** What checkLedger found: keys checked, and those where some node holds what no write the client made explains. */
export interface LedgerCheck {
  readonly keys: number;
  /** Keys with at least one acknowledged write. */
  readonly acknowledgedKeys: number;
  /** Keys some node holds wrong: older than the last acknowledged write, absent, or never written. Must be 0. */
  readonly lost: number;
  /** The first few of them, described. */
  readonly examples: readonly string[];
}

/** Lookups in flight at once while checking a ledger. */
const CHECK_CONCURRENCY = 16;

/**
 * Reads every key of the ledger from every node's own map (GET /rpc/cluster, never forwarded) and checks it holds
 * the last acknowledged write, or one of the ambiguous writes sent after it; absent counts as a value (a delete, or
 * nothing acknowledged yet).
 */
export async function checkLedger(keys: readonly KeyLedger[], nodes: readonly string[]): Promise<LedgerCheck> {
  const wrong: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const entry = keys[next++]!;
      const allowed = new Set<string | null>(entry.ambiguous.map((write) => write.value));
      allowed.add(entry.acknowledged ? entry.acknowledged.value : null);
      const held = await Promise.all(nodes.map((node) => localValue(node, entry.key)));
      const bad = nodes.filter((_, i) => !allowed.has(held[i]!));
      if (bad.length > 0) {
        const holds = bad.map((node) => `${node} holds ${JSON.stringify(held[nodes.indexOf(node)])}`).join(', ');
        const acknowledged = entry.acknowledged ? `${JSON.stringify(entry.acknowledged.value)} via ${entry.acknowledged.node} at ${entry.acknowledged.at}` : 'nothing';
        const ambiguous = entry.ambiguous.map((write) => `${JSON.stringify(write.value)} via ${write.node}`).join(', ') || 'none';
        wrong.push(`${entry.key}: ${holds}; acknowledged ${acknowledged}; ambiguous ${ambiguous}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CHECK_CONCURRENCY }, worker));
  return {
    keys: keys.length,
    acknowledgedKeys: keys.filter((entry) => entry.acknowledged !== undefined).length,
    lost: wrong.length,
    examples: wrong.slice(0, 10),
  };
}

/** A key's value in one node's map, null when absent there. */
export async function localValue(node: string, key: string): Promise<string | null> {
  const answer = await httpRequest(`${node}/rpc/cluster${rpcQuery(key)}`, { timeoutMs: 10_000 });
  if (answer.status === 404) return null;
  if (answer.status !== 200 || answer.json?.encoding !== 'utf8') {
    throw new Error(`GET ${node}/rpc/cluster?key=${key} answered ${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`);
  }
  return answer.json.value as string;
}

/** A node's GET /debug/digest. */
export async function nodeDigest(node: string): Promise<{ node: string; partitions: PartitionDigest[] }> {
  const answer = await httpRequest(`${node}/debug/digest`, { timeoutMs: 10_000 });
  if (answer.status !== 200) throw new Error(`GET ${node}/debug/digest answered ${answer.status}`);
  return answer.json;
}

/**
 * Waits until every node holds exactly what the topic holds: on every partition, the node's position is the topic's
 * end offset and the digests are equal. The topic is read again whenever a node is past it (a write that landed
 * after the read) and every few seconds. Resolves with how long it took from `since`; on timeout the error lists
 * what still differed.
 */
export async function waitForConvergence(options: {
  readonly nodes: readonly string[];
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly timeoutMs: number;
  /** When the wait is counted from (the end of the load); now when omitted. */
  readonly since?: number;
}): Promise<{ ms: number; topic: TopicDigest }> {
  const since = options.since ?? Date.now();
  const deadline = Date.now() + options.timeoutMs;
  let topic: TopicDigest | undefined;
  let readAt = 0;
  let differences: string[] = ['the topic digest was never read'];
  const readTopic = async (): Promise<TopicDigest> => {
    const timeoutMs = Math.max(5_000, Math.min(30_000, deadline - Date.now()));
    topic = await readTopicDigest({ brokers: [...options.brokers], topic: options.topic, timeoutMs, logger: silentLogger() });
    readAt = Date.now();
    return topic;
  };
  try {
    await waitFor(
      async () => {
        const digests = await Promise.all(options.nodes.map(nodeDigest));
        let current = topic ?? (await readTopic());
        const ahead = digests.some((digest) => digest.partitions.some((p) => p.position > (current.partitions.find((t) => t.partition === p.partition)?.position ?? 0)));
        if (ahead || Date.now() - readAt > 10_000) current = await readTopic();
        differences = options.nodes.flatMap((node, i) => digestDifferences(current.partitions, digests[i]!.partitions).map((d) => `${node}: ${d}`));
        return differences.length === 0;
      },
      { timeoutMs: options.timeoutMs, intervalMs: 250, description: `the nodes to converge to the digest of topic ${options.topic}` },
    );
  } catch (error) {
    if (error instanceof WaitTimeoutError) throw new WaitTimeoutError(`${error.message}; still different: ${differences.slice(0, 12).join('; ')}`);
    throw error;
  }
  return { ms: Date.now() - since, topic: topic! };
}
