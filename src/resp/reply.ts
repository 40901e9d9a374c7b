/**
 * A reply to a Redis command, independent of the protocol version: the encoder writes each kind as RESP2 or RESP3
 * (a map is a flat array in RESP2, a verbatim string a bulk string, null `$-1`/`*-1` or `_`).
 */
export type Reply =
  | { readonly type: 'simple'; readonly text: string }
  | { readonly type: 'error'; readonly line: string }
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'bulk'; readonly value: Buffer | string }
  | { readonly type: 'null'; readonly shape: 'bulk' | 'array' }
  | { readonly type: 'array'; readonly items: readonly Reply[] }
  | { readonly type: 'set'; readonly items: readonly Reply[] }
  | { readonly type: 'map'; readonly entries: ReadonlyArray<readonly [Reply, Reply]> }
  | { readonly type: 'verbatim'; readonly format: string; readonly text: string };

export const OK: Reply = { type: 'simple', text: 'OK' };
export const PONG: Reply = { type: 'simple', text: 'PONG' };
export const NULL_BULK: Reply = { type: 'null', shape: 'bulk' };
export const NULL_ARRAY: Reply = { type: 'null', shape: 'array' };

export function simple(text: string): Reply {
  return { type: 'simple', text };
}

/** An error reply; `line` starts with its code word (`ERR ...`, `WRONGPASS ...`). */
export function error(line: string): Reply {
  return { type: 'error', line };
}

export function integer(value: number): Reply {
  return { type: 'integer', value };
}

export function bulk(value: Buffer | string): Reply {
  return { type: 'bulk', value };
}

export function array(items: readonly Reply[]): Reply {
  return { type: 'array', items };
}

/** Bulk strings, or null for absent ones (MGET's shape). */
export function bulks(values: ReadonlyArray<Buffer | string | null>): Reply {
  return array(values.map((value) => (value === null ? NULL_BULK : bulk(value))));
}

/** A map with string keys (HELLO, CONFIG GET, COMMAND DOCS). */
export function map(entries: ReadonlyArray<readonly [string, Reply]>): Reply {
  return { type: 'map', entries: entries.map(([key, value]) => [bulk(key), value] as const) };
}

export function verbatim(text: string, format = 'txt'): Reply {
  return { type: 'verbatim', format, text };
}
