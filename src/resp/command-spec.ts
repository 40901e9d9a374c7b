import type { AccessToken } from '../access/access-token';
import type { Reply } from './reply';
import type { ProtocolVersion } from './reply-encoder';
import type { RespBackend } from './resp-backend';

/** One connection's state, as commands read and change it. */
export interface Session {
  readonly id: number;
  readonly remote: string;
  readonly connectedAt: number;
  protocol: ProtocolVersion;
  /** True when no AUTH_TOKEN is set, or once AUTH or HELLO ... AUTH presented it. */
  authenticated: boolean;
  name: string | undefined;
  libName: string | undefined;
  libVersion: string | undefined;
  lastCommand: string;
  /** Set by QUIT: close once this reply is written. */
  closeAfterReply: boolean;
}

/** The server, as commands see it. */
export interface ServerState {
  readonly backend: RespBackend;
  /** AUTH_TOKEN; undefined when the node is open. */
  readonly token: AccessToken | undefined;
  readonly nodeName: string;
  readonly version: string;
  readonly port: () => number;
  readonly startedAt: number;
  readonly sessions: () => Iterable<Session>;
  readonly stats: { commands: number; connectionsReceived: number; rejectedConnections: number };
  /** Every command, for COMMAND, COMMAND DOCS and COMMAND COUNT. */
  readonly commands: () => ReadonlyMap<string, CommandSpec>;
}

/** One call: the arguments after the command name. */
export interface Call {
  readonly args: readonly Buffer[];
  readonly session: Session;
  readonly server: ServerState;
}

/** A command as COMMAND describes it and the connection runs it. */
export interface CommandSpec {
  /** Lower-case, as COMMAND lists it. */
  readonly name: string;
  /** Redis's arity: n means exactly n words with the name, -n at least n. */
  readonly arity: number;
  /** `write`: goes through Kafka. `noauth`: runs before AUTH when a token is set. `loading`: runs while the node loads. */
  readonly flags: ReadonlyArray<'write' | 'readonly' | 'noauth' | 'fast' | 'loading'>;
  /** Positions of the first and last key argument and the step between keys (0 0 0: no keys). */
  readonly keys: readonly [number, number, number];
  readonly group: 'string' | 'generic' | 'connection' | 'server' | 'transactions' | 'scripting';
  readonly summary: string;
  /**
   * A write whose answer does not depend on the store (SET, MSET): it runs together with the writes just before it
   * on its connection (the producer keeps their order in Kafka). Every other command waits for all earlier ones.
   */
  readonly concurrent?: boolean;
  run(call: Call): Reply | Promise<Reply>;
}

/** A spec with the usual defaults: no keys, no flags. */
export function command(spec: Omit<CommandSpec, 'keys' | 'flags'> & Partial<Pick<CommandSpec, 'keys' | 'flags'>>): CommandSpec {
  return { keys: [0, 0, 0], flags: [], ...spec };
}
