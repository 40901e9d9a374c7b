/**
 * The store could not take an entry without going over its memory limit (STORE_MAX_BYTES), or the process could not
 * get the memory at all. The entry was not stored and the store is unchanged: the caller must not move its position
 * past the record, or the map would silently lose it.
 */
export class StoreFullError extends Error {
  override readonly name = 'StoreFullError';
  readonly code = 'STORE_FULL';

  constructor(
    readonly wantedBytes: number,
    readonly usedBytes: number,
    readonly limitBytes: number,
    what: string,
  ) {
    super(
      `the store is full: ${what} needs ${wantedBytes} more bytes, ${usedBytes} of its ${limitBytes} are in use; ` +
        'raise STORE_MAX_BYTES (and the memory of the machine or container), or hold fewer keys on this node',
    );
  }
}
