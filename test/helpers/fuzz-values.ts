import { isUtf8 } from 'node:buffer';
import type { ErrorCode } from '../../src/errors/error-codes';
import type { SeededRandom } from './seeded-random';

/** Byte sequences that are not UTF-8: a lone continuation, overlong forms, a surrogate, past U+10FFFF, cut short, bytes UTF-8 never uses. */
export const INVALID_UTF8 = [[0x80], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff], [0xfe, 0xff], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc3]];

/** Text that is valid but easy to get wrong: a leading BOM, U+FFFD itself, NUL, noncharacters, the last code point, astral and combining characters. */
export const AWKWARD_TEXT = ['\ufeffbom', '\ufffd', 'nul\u0000byte', '\uffff\ufffe', '\u{10ffff}', '🙂 emoji', 'e\u0301', 'Ñandú', '日本語', ' space ', 'a+b&c=d%e#f', 'tab\tnl\n'];

/** What docs/api.md says is wrong with a key's bytes: missing or empty, over MAX_KEY_BYTES, not UTF-8. */
export function keyFaults(raw: Buffer | undefined, maxKeyBytes: number): ErrorCode[] {
  if (raw === undefined || raw.length === 0) return ['KEY_MISSING'];
  const faults: ErrorCode[] = [];
  if (raw.length > maxKeyBytes) faults.push('KEY_TOO_LARGE');
  if (!isUtf8(raw)) faults.push('KEY_INVALID');
  return faults;
}

/** A value: binary, awkward text, empty, up to 4 KiB, exactly at MAX_VALUE_BYTES, or over it. */
export function fuzzValue(rnd: SeededRandom, maxValueBytes: number): { kind: string; bytes: Buffer } {
  const kind = rnd.weighted([
    [30, 'small-binary'],
    [20, 'text'],
    [8, 'empty'],
    [15, 'medium'],
    [3, 'at-limit'],
    [6, 'over'],
  ] as const);
  switch (kind) {
    case 'small-binary':
      return { kind, bytes: rnd.bytes(rnd.between(1, Math.min(48, maxValueBytes))) };
    case 'text':
      return { kind, bytes: Buffer.from(Array.from({ length: rnd.between(1, 3) }, () => rnd.pick(AWKWARD_TEXT)).join('')) };
    case 'empty':
      return { kind, bytes: Buffer.alloc(0) };
    case 'medium':
      return { kind, bytes: rnd.bytes(rnd.between(0, Math.min(maxValueBytes, 4096))) };
    case 'at-limit':
      return { kind, bytes: rnd.bytes(maxValueBytes) };
    case 'over':
      return { kind, bytes: rnd.bytes(maxValueBytes + rnd.between(1, Math.min(maxValueBytes, 2048) + 1)) };
  }
}
