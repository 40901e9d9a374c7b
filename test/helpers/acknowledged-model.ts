import { isUtf8 } from 'node:buffer';

/** One write a node acknowledged: the record it produced. `value` null is a delete (a tombstone). */
interface Ack {
  readonly value: Buffer | null;
  readonly partition: number;
  readonly offset: number;
}

/** What one read answered, and the newest acknowledged offset of its key when it was sent. */
interface ReadSeen {
  readonly key: string;
  readonly floor: number;
  readonly answer: { readonly value: Buffer; readonly offset: number } | 'absent';
  readonly context: string;
}

/**
 * The contents a node must have, built only from what it acknowledged: fuzz tests record every acknowledged write
 * and delete (with the offset it answered) and every read, then check that each read saw a value that was written,
 * no older than what had been acknowledged before the read was sent (read-your-writes), and that the node holds
 * exactly the newest acknowledged value of every key. A write whose outcome the client could not learn (its answer
 * was lost with the connection, or it was a documented "may or may not be in the log" failure) is uncertain: it
 * may be in the contents or not, and it widens the count of records the topic may hold.
 */
export class AcknowledgedModel {
  private readonly acks = new Map<string, Ack[]>();
  private readonly uncertainWrites = new Map<string, Array<Buffer | null>>();
  private readonly settledValues = new Map<string, Buffer | null>();
  private readonly reads: ReadSeen[] = [];
  private uncertainCount = 0;
  private ackCount = 0;
  readonly problems: string[] = [];

  /** The newest offset acknowledged for `key` so far (-1 when none): a read sent now must see it or a newer one. */
  floor(key: string): number {
    const acks = this.acks.get(key);
    let newest = -1;
    if (acks) for (const ack of acks) newest = Math.max(newest, ack.offset);
    return newest;
  }

  acknowledged(key: string, value: Buffer | null, partition: number, offset: number, context: string): void {
    const acks = this.acks.get(key) ?? [];
    const clash = acks.find((a) => a.offset === offset);
    if (clash) this.problems.push(`${context}: offset ${offset} of key ${JSON.stringify(key)} was acknowledged twice`);
    const other = acks.find((a) => a.partition !== partition);
    if (other) this.problems.push(`${context}: key ${JSON.stringify(key)} acknowledged on partition ${partition} and ${other.partition}`);
    acks.push({ value, partition, offset });
    this.acks.set(key, acks);
    this.ackCount++;
  }

  /**
   * A write acknowledged without its offset (the original Avro messages answer null), to a key no other client
   * writes and no earlier write of which is still unanswered: its value is the key's, whatever its offset.
   */
  settled(key: string, value: Buffer | null): void {
    this.settledValues.set(key, value);
    this.ackCount++;
  }

  /** A write that may or may not have reached the log. */
  uncertain(key: string, value: Buffer | null): void {
    this.uncertainWrites.set(key, [...(this.uncertainWrites.get(key) ?? []), value]);
    this.uncertainCount++;
  }

  read(key: string, floor: number, answer: ReadSeen['answer'], context: string): void {
    this.reads.push({ key, floor, answer, context });
  }

  /** Records the topic must hold: every acknowledged write, and up to every uncertain one. */
  get records(): { min: number; max: number } {
    return { min: this.ackCount, max: this.ackCount + this.uncertainCount };
  }

  get acknowledgedWrites(): number {
    return this.ackCount;
  }

  /** Every key written or deleted, uncertainly or not. */
  keys(): string[] {
    return [...new Set([...this.acks.keys(), ...this.uncertainWrites.keys(), ...this.settledValues.keys()])];
  }

  /** The values `key` may hold now (null: absent), and the offset of the newest acknowledged write (-1: none or unknown). */
  expected(key: string): { values: Array<Buffer | null>; offset: number } {
    if (this.settledValues.has(key)) return { values: [this.settledValues.get(key)!, ...(this.uncertainWrites.get(key) ?? [])], offset: -1 };
    const acks = [...(this.acks.get(key) ?? [])].sort((a, b) => a.offset - b.offset);
    const newest = acks.at(-1);
    return { values: [newest ? newest.value : null, ...(this.uncertainWrites.get(key) ?? [])], offset: newest?.offset ?? -1 };
  }

  /** Checks every read recorded against the writes acknowledged by the end; adds what is wrong to `problems`. */
  checkReads(): void {
    for (const seen of this.reads) {
      const acks = this.acks.get(seen.key) ?? [];
      const uncertain = this.uncertainWrites.get(seen.key) ?? [];
      const where = `${seen.context} (key ${JSON.stringify(seen.key)})`;
      if (seen.answer === 'absent') {
        const atFloor = acks.find((a) => a.offset === seen.floor);
        const deletedSince = acks.some((a) => a.value === null && a.offset > seen.floor) || uncertain.includes(null);
        if (atFloor && atFloor.value !== null && !deletedSince) {
          this.problems.push(`${where}: answered absent, but offset ${seen.floor} had been acknowledged before the read was sent`);
        }
        continue;
      }
      const { value, offset } = seen.answer;
      if (offset < seen.floor) this.problems.push(`${where}: answered offset ${offset}, older than offset ${seen.floor} acknowledged before the read was sent`);
      const written = acks.find((a) => a.offset === offset);
      if (written) {
        if (written.value === null) this.problems.push(`${where}: answered a value at offset ${offset}, which is a delete`);
        else if (!written.value.equals(value)) this.problems.push(`${where}: answered ${describe(value)} at offset ${offset}, where ${describe(written.value)} was written`);
      } else if (!uncertain.some((v) => v !== null && v.equals(value))) {
        this.problems.push(`${where}: answered ${describe(value)} at offset ${offset}, which no write produced`);
      }
    }
  }
}

/** A value for a failure message: its size and first bytes (as text when they are UTF-8), never all of it. */
export function describe(value: Buffer | null): string {
  if (value === null) return 'absent';
  const head = value.subarray(0, 24);
  const shown = isUtf8(head) ? JSON.stringify(head.toString('utf8')) : `0x${head.toString('hex')}`;
  return `${value.length} bytes ${shown}${value.length > 24 ? '…' : ''}`;
}
