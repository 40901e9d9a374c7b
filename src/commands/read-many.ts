import { type CommandContext, failure, type Failure } from './command-context';
import { checkKeyCount } from './key-validation';
import { type Hit, type Miss, type ReadOutcome, readKey } from './read-key';

/**
 * Reads several keys, uncounted: what mget and exists share. All or nothing: the first failing key (a bad key,
 * NOT_READY) fails the whole command, as one bad key would fail it on every front-end.
 */
export function readMany(ctx: CommandContext, command: string, keys: readonly (Buffer | undefined)[]): Array<Hit | Miss> | Failure | Promise<Array<Hit | Miss> | Failure> {
  const tooMany = checkKeyCount(command, keys.length);
  if (tooMany) return failure(tooMany);
  const reads: Array<ReadOutcome | Promise<ReadOutcome>> = [];
  let pending = false;
  for (const key of keys) {
    const read = readKey(ctx, key);
    if (!(read instanceof Promise) && read.kind === 'error') return read;
    if (read instanceof Promise) pending = true;
    reads.push(read);
  }
  return pending ? Promise.all(reads).then(settle) : settle(reads as ReadOutcome[]);
}

function settle(reads: ReadOutcome[]): Array<Hit | Miss> | Failure {
  for (const read of reads) if (read.kind === 'error') return read;
  return reads as Array<Hit | Miss>;
}
