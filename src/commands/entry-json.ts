import type { Entry } from '../store/entry';

// ignoreBOM: a value's leading EF BB BF bytes are part of it; stripped, a read would answer a different value.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * An entry as JSON, as /rpc answers it and peers read it. Values are bytes: valid UTF-8 is given as text
 * (`encoding: "utf8"`), anything else in base64 (`encoding: "base64"`), so no byte is lost either way.
 */
export function entryToJson(key: string, entry: Entry, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { value, encoding } = jsonValue(entry.value);
  return { key, value, encoding, partition: entry.partition, offset: entry.offset, timestamp: entry.timestamp, ...extra };
}

/**
 * `JSON.stringify(entryToJson(key, entry, { source }))`, the text of every /rpc hit, in half the time: only the two
 * strings go through JSON.stringify, not an object whose shape it must walk (docs/performance.md).
 */
export function entryJsonText(key: string, entry: Entry, source: string): string {
  const { value, encoding } = jsonValue(entry.value);
  return `{"key":${JSON.stringify(key)},"value":${JSON.stringify(value)},"encoding":"${encoding}","partition":${entry.partition},"offset":${entry.offset},"timestamp":${entry.timestamp},"source":${JSON.stringify(source)}}`;
}

/** A value as JSON text can carry it: valid UTF-8 as itself, anything else in base64. */
function jsonValue(bytes: Buffer): { value: string; encoding: 'utf8' | 'base64' } {
  try {
    return { value: utf8.decode(bytes), encoding: 'utf8' };
  } catch {
    return { value: bytes.toString('base64'), encoding: 'base64' };
  }
}

/** The value of an entryToJson() object, or undefined when it is not one. */
export function valueFromJson(json: { value?: unknown; encoding?: unknown }): Buffer | undefined {
  if (typeof json.value !== 'string') return undefined;
  return json.encoding === 'base64' ? Buffer.from(json.value, 'base64') : Buffer.from(json.value, 'utf8');
}
