import type { ApplyReport } from '../log/log-consumer';
import type { PartitionPositions } from '../log/partition-positions';
import type { MembershipReport } from '../membership/membership';
import type { MirrorReport } from '../membership/mirror-role';

/** A node's life, changed in one place (BitacoraNode.setStatus). */
export type NodeStatus = 'created' | 'starting' | 'loading' | 'ready' | 'stopping' | 'stopped' | 'failed';

export interface ReadinessReport {
  readonly ready: boolean;
  readonly status: NodeStatus;
  /** Why the node is not ready, in words that say what to do; absent when it is ready. */
  readonly reason?: string;
  readonly node: string;
  /** Per partition: applied position, end at start, the broker's end (last stable offset) and lag. */
  readonly partitions: ReturnType<PartitionPositions['snapshot']>;
  /** The apply path: its current failure if any, failures and consumer restarts since start. */
  readonly apply: ApplyReport | undefined;
  /** Partitions that stayed behind longer than the topic's delete.retention.ms, and so may hold deleted keys. */
  readonly deletes: { readonly deleteRetentionMs: number | undefined; readonly maybeMissed: readonly number[] };
  /** ZooKeeper membership; it does not decide readiness (a node serves without ZooKeeper), it explains it. */
  readonly cluster: MembershipReport | undefined;
  /** The mirroring role (#13): the source partitions this node mirrors, their lag, records written; it does not decide readiness. */
  readonly mirror: MirrorReport | undefined;
}

/**
 * Ready means: every partition has been read up to the end offset it had when the node started, judged by the
 * consumer's position (never by waiting to see a last record, which compaction may have removed); the apply path
 * works (no apply error, crashed consumer or stalled partition: see LogConsumer); no partition stayed behind
 * longer than the topic's delete.retention.ms; and the node is not stopping.
 */
export class Readiness {
  constructor(
    private readonly nodeName: string,
    private readonly positions: PartitionPositions,
    private readonly status: () => NodeStatus,
    private readonly membership: () => MembershipReport | undefined = () => undefined,
    private readonly apply: () => ApplyReport | undefined = () => undefined,
    private readonly mirror: () => MirrorReport | undefined = () => undefined,
  ) {}

  isReady(): boolean {
    return this.status() === 'ready' && this.positions.failure === undefined && this.positions.deletesMaybeMissed().length === 0;
  }

  report(): ReadinessReport {
    const status = this.status();
    const maybeMissed = this.positions.deletesMaybeMissed();
    const deleteRetentionMs = this.positions.deleteRetentionMs;
    const reason = this.reason(status, maybeMissed, deleteRetentionMs);
    return {
      ready: reason === undefined,
      status,
      ...(reason !== undefined ? { reason } : {}),
      node: this.nodeName,
      partitions: this.positions.snapshot(),
      apply: this.apply(),
      deletes: { deleteRetentionMs, maybeMissed },
      cluster: this.membership(),
      mirror: this.mirror(),
    };
  }

  private reason(status: NodeStatus, maybeMissed: readonly number[], deleteRetentionMs: number | undefined): string | undefined {
    const fatal = this.apply()?.fatal;
    if (fatal) return `the apply path failed for good: ${fatal}`;
    const failure = this.positions.failure;
    if (failure) return `the apply path failed (${failure.kind}): ${failure.reason}; the node restarts its consumer (APPLY_RESTARTS)`;
    if (maybeMissed.length > 0) {
      return (
        `partition(s) ${maybeMissed.join(', ')} stayed behind the log longer than the topic's delete.retention.ms (${deleteRetentionMs} ms), so Kafka may have ` +
        `removed tombstones this node never applied: restart the node to rebuild its map, and raise delete.retention.ms above the longest load or lag`
      );
    }
    if (status === 'ready') return undefined;
    if (status === 'loading') return 'the node is loading the topic up to the end offsets it found at start';
    return `the node is ${status}`;
  }
}
