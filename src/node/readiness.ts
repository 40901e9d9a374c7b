import type { PartitionPositions } from '../log/partition-positions';

/** A node's life, changed in one place (BitacoraNode.setStatus). */
export type NodeStatus = 'created' | 'starting' | 'loading' | 'ready' | 'stopping' | 'stopped' | 'failed';

export interface ReadinessReport {
  readonly ready: boolean;
  readonly status: NodeStatus;
  readonly node: string;
  readonly partitions: ReturnType<PartitionPositions['snapshot']>;
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
  ) {}

  report(): ReadinessReport {
    const status = this.status();
    return { ready: status === 'ready', status, node: this.nodeName, partitions: this.positions.snapshot() };
  }
}
