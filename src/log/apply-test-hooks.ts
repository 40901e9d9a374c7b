import type { EntryStore } from '../store/entry-store';
import type { AppliedStore } from './record-applier';

/**
 * TEST ONLY. Makes the store refuse every record of one key, `times` times (for ever when 0), as a store that
 * cannot hold it would (V8's Map limit once did): applying it throws, and the apply path fails on that record.
 * Enabled only by TEST_HOOK_REFUSE_KEY; never set it in production.
 */
export interface RefuseKeyHook {
  readonly key: string;
  readonly times: number;
}

/** The store as the applier sees it: `store` itself, or, with the test hook, a wrapper that refuses the hook's key. */
export function storeForApplier(store: EntryStore, hook: RefuseKeyHook | undefined): AppliedStore {
  if (!hook) return store;
  let left = hook.times === 0 ? Infinity : hook.times;
  const refuse = (key: string): void => {
    if (key !== hook.key || left <= 0) return;
    left--;
    throw new Error(`the store refused key "${key}" (test hook TEST_HOOK_REFUSE_KEY)`);
  };
  return {
    get: (key) => store.get(key),
    put(key, value, partition, offset, timestamp) {
      refuse(key);
      store.put(key, value, partition, offset, timestamp);
    },
    delete(key) {
      refuse(key);
      return store.delete(key);
    },
    markDeleted(key, partition, offset, timestamp) {
      refuse(key);
      return store.markDeleted(key, partition, offset, timestamp);
    },
    deletionOf: (key) => store.deletionOf(key),
    get deletions() {
      return store.deletions;
    },
  };
}
