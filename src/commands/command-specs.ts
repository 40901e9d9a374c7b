/**
 * Every command, with the `operation` label it is counted under and whether running it twice leaves the same
 * result as once (what a retry after an answer that "may have happened" depends on: see errors/error-codes.ts).
 * A new command adds a line here, a file beside this one, and a method on Commands.
 */
export const COMMAND_SPECS = {
  get: { operation: 'get', idempotent: true },
  exists: { operation: 'exists', idempotent: true },
  mget: { operation: 'multiget', idempotent: true },
  lookup: { operation: 'lookup', idempotent: true },
  set: { operation: 'set', idempotent: true },
  delete: { operation: 'delete', idempotent: true },
  mset: { operation: 'multiset', idempotent: true },
} as const satisfies Record<string, { operation: string; idempotent: boolean }>;

export type CommandName = keyof typeof COMMAND_SPECS;
