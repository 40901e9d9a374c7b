import type { PartitionPositions } from '../log/partition-positions';
import type { MembershipReport } from '../membership/membership';

/** A node's life, changed in one place (BitacoraNode.setStatus). */
export type NodeStatus = 'created' | 'starting' | 'loading' | 'ready' | 'stopping' | 'stopped' | 'failed';

export interface ReadinessReport {
  readonly ready: boolean;
  readonly status: NodeStatus;
  readonly node: string;
  readonly partitions: ReturnType<PartitionPositions['snapshot']>;
  /** ZooKeeper membership; it does not decide readiness (a node serves without ZooKeeper), it explains it. */
  readonly cluster: MembershipReport | undefined;
}

/**
 * Ready means: every partition has been read up to the end offset it had when the node started, judged by the
 * consumer's position (never by waiting to see a last record, which compaction may have removed), and the node
 * is not stopping.
 */
export class Readiness {
  constructor(
    private readonly nodeName: string,
    private readonly positions: PartitionPositions,
    private readonly status: () => NodeStatus,
    private readonly membership: () => MembershipReport | undefined = () => undefined,
  ) {}

  report(): ReadinessReport {
    const status = this.status();
    return { ready: status === 'ready', status, node: this.nodeName, partitions: this.positions.snapshot(), cluster: this.membership() };
  }
}
