import type { Entry } from '../store/entry';

// ignoreBOM: a value's leading EF BB BF bytes are part of it; stripped, a read would answer a different value.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * An entry as JSON, as /rpc answers it and peers read it. Values are bytes: valid UTF-8 is given as text
 * (`encoding: "utf8"`), anything else in base64 (`encoding: "base64"`), so no byte is lost either way.
 */
export function entryToJson(key: string, entry: Entry, extra: Record<string, unknown> = {}): Record<string, unknown> {
  let value: string;
  let encoding: 'utf8' | 'base64';
  try {
    value = utf8.decode(entry.value);
    encoding = 'utf8';
  } catch {
    value = entry.value.toString('base64');
    encoding = 'base64';
  }
  return { key, value, encoding, partition: entry.partition, offset: entry.offset, timestamp: entry.timestamp, ...extra };
}

/** The value of an entryToJson() object, or undefined when it is not one. */
export function valueFromJson(json: { value?: unknown; encoding?: unknown }): Buffer | undefined {
  if (typeof json.value !== 'string') return undefined;
  return json.encoding === 'base64' ? Buffer.from(json.value, 'base64') : Buffer.from(json.value, 'utf8');
}
