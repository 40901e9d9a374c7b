/** Below this many bytes a plain loop beats a typed-array view plus a native copy. */
const LOOP_BYTES = 64;

/**
 * Copies `length` bytes of `source` from `sourceStart` into `target` at `targetStart`. Buffer#copy costs a new
 * Uint8Array view per call (Node's _copyActual), which was 7 % of a node's load time and garbage for the
 * collector; short ranges (keys, small values) are copied by a loop, longer ones by TypedArray#set of one view.
 */
export function copyBytes(source: Uint8Array, sourceStart: number, length: number, target: Uint8Array, targetStart: number): void {
  if (length < LOOP_BYTES) {
    for (let i = 0; i < length; i++) target[targetStart + i] = source[sourceStart + i]!;
  } else {
    target.set(source.subarray(sourceStart, sourceStart + length), targetStart);
  }
}
