/**
 * One server of a running stack that a test can stop, kill and start again on the same ports and data (the
 * fault-injection tests drive brokers and ZooKeeper through this).
 */
export interface StackService {
  /** 'zookeeper', 'kafka-1', 'kafka-2', ... */
  readonly name: string;
  /** The pid of the current run; undefined while it is not running. */
  readonly pid: number | undefined;
  /** Sends SIGKILL (or the given signal); for SIGKILL/SIGTERM resolves once the process has exited (bounded wait). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Graceful stop, bounded; idempotent. */
  stop(): Promise<void>;
  /**
   * Starts it again on the same ports and data; resolves once it answers (ZooKeeper: a session; a broker: registered
   * in the cluster metadata). Throws if already running. Waits the stack's start timeout unless told otherwise.
   */
  start(timeoutMs?: number): Promise<void>;
}
