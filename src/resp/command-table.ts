import type { CommandSpec } from './command-spec';
import { CONNECTION_COMMANDS } from './connection-commands';
import { DATA_COMMANDS } from './data-commands';
import { SERVER_COMMANDS } from './server-commands';
import { UNSUPPORTED_COMMANDS } from './unsupported-commands';

/** Every command the RESP server knows, by lower-case name. */
export const COMMAND_TABLE: ReadonlyMap<string, CommandSpec> = new Map(
  [...CONNECTION_COMMANDS, ...DATA_COMMANDS, ...SERVER_COMMANDS, ...UNSUPPORTED_COMMANDS].map((spec) => [spec.name, spec]),
);

interface NamedSpec {
  readonly name: Buffer;
  readonly spec: CommandSpec;
}

/**
 * The commands by the length of their name, each with its name's bytes (lower case, ASCII). Looking a name up
 * compares bytes: no string is made per command (a latin1 decode and toLowerCase were 4.5 % of a node's time on
 * pipelined GETs, issue #17).
 */
const BY_LENGTH: ReadonlyArray<readonly NamedSpec[] | undefined> = (() => {
  const table: NamedSpec[][] = [];
  for (const [name, spec] of COMMAND_TABLE) (table[name.length] ??= []).push({ name: Buffer.from(name, 'latin1'), spec });
  return table;
})();

/** An ASCII upper-case letter's lower case; any other byte as it is. */
function fold(byte: number): number {
  return byte >= 65 && byte <= 90 ? byte | 32 : byte;
}

/**
 * Looks a command up by the name as sent, in any case. Only ASCII letters fold: a name with other bytes matches
 * nothing, as no command name has them (Redis compares names the same way, case-insensitively byte by byte).
 */
export function findCommand(name: Buffer): CommandSpec | undefined {
  const candidates = BY_LENGTH[name.length];
  if (candidates === undefined) return undefined;
  const first = fold(name[0]!);
  for (const candidate of candidates) {
    const bytes = candidate.name;
    if (bytes[0] !== first) continue;
    let i = 1;
    while (i < bytes.length && fold(name[i]!) === bytes[i]) i++;
    if (i === bytes.length) return candidate.spec;
  }
  return undefined;
}
