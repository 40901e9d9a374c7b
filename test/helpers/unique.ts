import { randomBytes } from 'node:crypto';

/** A name no other test uses: each test gets its own topic, consumer group and ZooKeeper root. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
