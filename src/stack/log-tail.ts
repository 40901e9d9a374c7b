import { promises as fs } from 'node:fs';

/** Reading more than this from the end of a log is never needed to explain a failed start. */
const MAX_TAIL_BYTES = 256 * 1024;
/** Lines of a stack trace kept after each ERROR line; the first few name the cause. */
const TRACE_LINES = 6;

/** The last `lines` lines of `file` written after byte `fromOffset`, or '' when it does not exist (yet). */
export async function readLogTail(file: string, lines: number, fromOffset = 0): Promise<string> {
  return (await readLastLines(file, fromOffset)).slice(-lines).join('\n');
}

/**
 * The last `count` ERROR/FATAL entries of a log4j file, each with the start of its stack trace.
 * A JVM that fails to start logs its cause and then pages of orderly shutdown, so a plain tail misses the cause.
 */
export async function readLogErrors(file: string, count: number, fromOffset = 0): Promise<string> {
  const lines = await readLastLines(file, fromOffset);
  const entries: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\[[^\]]+\] (ERROR|FATAL) /.test(lines[i]!)) continue;
    const entry = [lines[i]!];
    for (let j = i + 1; j < lines.length && j <= i + TRACE_LINES && !lines[j]!.startsWith('['); j++) entry.push(lines[j]!);
    entries.push(entry.join('\n'));
  }
  return entries.slice(-count).join('\n');
}

async function readLastLines(file: string, fromOffset: number): Promise<string[]> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const { size } = await handle.stat();
    // A log that shrank was rolled over: everything in it is new.
    const start = Math.max(fromOffset <= size ? fromOffset : 0, size - MAX_TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').trimEnd().split('\n');
    // A read cut short by MAX_TAIL_BYTES starts mid-line; that partial first line is dropped.
    return start > fromOffset ? lines.slice(1) : lines;
  } catch {
    return [];
  } finally {
    await handle?.close();
  }
}
