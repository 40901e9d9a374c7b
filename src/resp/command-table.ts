import type { CommandSpec } from './command-spec';
import { CONNECTION_COMMANDS } from './connection-commands';
import { DATA_COMMANDS } from './data-commands';
import { SERVER_COMMANDS } from './server-commands';
import { UNSUPPORTED_COMMANDS } from './unsupported-commands';

/** Every command the RESP server knows, by lower-case name. */
export const COMMAND_TABLE: ReadonlyMap<string, CommandSpec> = new Map(
  [...CONNECTION_COMMANDS, ...DATA_COMMANDS, ...SERVER_COMMANDS, ...UNSUPPORTED_COMMANDS].map((spec) => [spec.name, spec]),
);

/** Looks a command up by the name as sent (any case). */
export function findCommand(name: Buffer): CommandSpec | undefined {
  // Names are ASCII; latin1 keeps a binary name from turning into a valid one.
  return name.length <= 32 ? COMMAND_TABLE.get(name.toString('latin1').toLowerCase()) : undefined;
}
