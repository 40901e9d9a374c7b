import { BitacoraError } from '../../src/errors/bitacora-error';

/** How long a scan's cursor stays valid after its last page. */
export const SCAN_CURSOR_TTL_MS = 5 * 60_000;
/** Scans kept at once per node; starting one more forgets the least recently used. */
export const MAX_OPEN_SCANS = 64;

const OFFSET_SPACE = 2 ** 32;

/**
 * SCAN over a map that has no cursor of its own: cursor 0 takes a snapshot of the key list (references to the
 * keys, no values), and each later cursor is <scan id> * 2^32 + <offset> into that snapshot. Guarantee: every key
 * present for the whole scan is returned exactly once; a key deleted meanwhile is not returned once deleted; a key
 * added meanwhile is not returned. Cost: O(n) time and 8 bytes a key of memory when a scan starts, O(COUNT) a page.
 * The node uses the store's own cursor (EntryStore.scan); this stands in for it in the RESP server's unit tests,
 * whose backend is a plain Map.
 */
export class ScanSnapshots {
  private readonly scans = new Map<number, { keys: string[]; touched: number }>();
  private nextId = 1;

  constructor(private readonly now: () => number = Date.now) {}

  page(cursor: string, count: number, listKeys: () => Iterable<string>, stillHeld: (key: string) => boolean): { cursor: string; keys: string[] } {
    if (!/^\d{1,16}$/.test(cursor)) throw new BitacoraError('BAD_REQUEST', 'invalid cursor');
    const value = Number(cursor);
    let id: number;
    let offset: number;
    if (value === 0) {
      id = this.open([...listKeys()]);
      offset = 0;
    } else {
      id = Math.floor(value / OFFSET_SPACE);
      offset = value % OFFSET_SPACE;
    }
    this.expire();
    const scan = this.scans.get(id);
    if (!scan) {
      throw new BitacoraError(
        'BAD_REQUEST',
        `invalid cursor: its scan is unknown or expired (cursors live ${SCAN_CURSOR_TTL_MS / 60_000} minutes, ${MAX_OPEN_SCANS} scans at once): start again from 0`,
      );
    }
    // LRU: a scan in use moves to the end of the map's order.
    this.scans.delete(id);
    scan.touched = this.now();
    const end = Math.min(scan.keys.length, offset + Math.max(1, count));
    const keys = scan.keys.slice(offset, end).filter(stillHeld);
    if (end >= scan.keys.length) return { cursor: '0', keys };
    this.scans.set(id, scan);
    return { cursor: String(id * OFFSET_SPACE + end), keys };
  }

  private open(keys: string[]): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 2 ** 20 ? 1 : this.nextId + 1;
    this.scans.set(id, { keys, touched: this.now() });
    while (this.scans.size > MAX_OPEN_SCANS) this.scans.delete(this.scans.keys().next().value!);
    return id;
  }

  private expire(): void {
    const oldest = this.now() - SCAN_CURSOR_TTL_MS;
    for (const [id, scan] of this.scans) if (scan.touched < oldest) this.scans.delete(id);
  }
}
