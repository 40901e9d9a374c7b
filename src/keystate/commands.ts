import { isExpired } from './key-state';
import type { Content, Reply } from './records';

/** How a write sets the deadline: keep the current one (KEEPTTL), an absolute time (EXAT/PXAT), relative (EX/PX), or none. */
export type ExpiryOption = { readonly kind: 'keep' } | { readonly kind: 'at'; readonly at: number } | { readonly kind: 'in'; readonly ms: number } | { readonly kind: 'none' };

/** The state-dependent commands, as a decider evaluates them. Plain SET/DEL without conditions need no decider. */
export type Command =
  /** SET with NX/XX/GET/KEEPTTL/EX/PX/EXAT/PXAT, SETNX, SETEX, PSETEX, GETSET; HTTP If-Match (ifVersion) / If-None-Match: * (nx). */
  | { readonly op: 'set'; readonly value: string; readonly condition?: 'nx' | 'xx'; readonly ifVersion?: number; readonly expiry: ExpiryOption; readonly get?: boolean }
  /** INCR, INCRBY, DECR, DECRBY. */
  | { readonly op: 'incrby'; readonly by: number }
  | { readonly op: 'append'; readonly value: string }
  /** EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (absolute `deadline`) with NX/XX/GT/LT; PERSIST is `deadline: null`. */
  | { readonly op: 'expire'; readonly deadline: number | null; readonly condition?: 'nx' | 'xx' | 'gt' | 'lt' }
  | { readonly op: 'getdel' }
  /** DEL with HTTP If-Match. */
  | { readonly op: 'delete'; readonly ifVersion?: number }
  /** The expiry collector's delete: only the very content (version) it found expired. */
  | { readonly op: 'collect_expired'; readonly version: number };

/** What a command does: a new value and deadline for the key (value null deletes it), or nothing. */
export interface Evaluation {
  readonly next: { readonly value: string | null; readonly deadline: number | null } | 'unchanged';
  readonly reply: Reply;
}

const OK: Reply = { kind: 'ok' };
const NIL: Reply = { kind: 'nil' };
const INTEGER = /^-?(0|[1-9][0-9]*)$/;

/**
 * Evaluates a command against the key's content at decision time `time`, which is the timestamp of the record that
 * will carry the result: expiry is judged by it, never by a clock read anywhere else. Pure.
 */
export function evaluate(command: Command, content: Content | undefined, time: number): Evaluation {
  const live = content && content.value !== null && !isExpired(content, time) ? content : undefined;
  const value = live?.value ?? null;
  switch (command.op) {
    case 'set': {
      const previous: Reply = value === null ? NIL : { kind: 'bulk', value };
      const refused = (command.condition === 'nx' && live) || (command.condition === 'xx' && !live);
      if (command.ifVersion !== undefined && live?.version !== command.ifVersion) return { next: 'unchanged', reply: { kind: 'error', code: 'VERSION_MISMATCH' } };
      if (refused) return { next: 'unchanged', reply: command.get ? previous : NIL };
      const deadline = deadlineOf(command.expiry, live, time);
      // A deadline already past (EXAT in the past) deletes, as Redis does.
      const next = deadline !== null && deadline <= time ? { value: null, deadline: null } : { value: command.value, deadline };
      return { next, reply: command.get ? previous : OK };
    }
    case 'incrby': {
      if (value !== null && !INTEGER.test(value)) return { next: 'unchanged', reply: { kind: 'error', code: 'NOT_AN_INTEGER' } };
      const current = value === null ? 0 : Number(value);
      const result = current + command.by;
      if (!Number.isSafeInteger(current) || !Number.isSafeInteger(result)) return { next: 'unchanged', reply: { kind: 'error', code: 'OVERFLOW' } };
      return { next: { value: String(result), deadline: live?.deadline ?? null }, reply: { kind: 'int', value: result } };
    }
    case 'append': {
      const result = (value ?? '') + command.value;
      return { next: { value: result, deadline: live?.deadline ?? null }, reply: { kind: 'int', value: result.length } };
    }
    case 'expire': {
      if (!live) return { next: 'unchanged', reply: { kind: 'int', value: 0 } };
      const current = live.deadline;
      const wanted = command.deadline;
      if (wanted === null) {
        return current === null ? { next: 'unchanged', reply: { kind: 'int', value: 0 } } : { next: { value: live.value, deadline: null }, reply: { kind: 'int', value: 1 } };
      }
      // As Redis: no deadline counts as an infinite one for GT and LT.
      const allowed =
        command.condition === 'nx' ? current === null : command.condition === 'xx' ? current !== null : command.condition === 'gt' ? current !== null && wanted > current : command.condition === 'lt' ? current === null || wanted < current : true;
      if (!allowed) return { next: 'unchanged', reply: { kind: 'int', value: 0 } };
      return { next: wanted <= time ? { value: null, deadline: null } : { value: live.value, deadline: wanted }, reply: { kind: 'int', value: 1 } };
    }
    case 'getdel':
      return live ? { next: { value: null, deadline: null }, reply: { kind: 'bulk', value: live.value as string } } : { next: 'unchanged', reply: NIL };
    case 'delete':
      if (command.ifVersion !== undefined && live?.version !== command.ifVersion) return { next: 'unchanged', reply: { kind: 'error', code: 'VERSION_MISMATCH' } };
      return live ? { next: { value: null, deadline: null }, reply: { kind: 'int', value: 1 } } : { next: 'unchanged', reply: { kind: 'int', value: 0 } };
    case 'collect_expired': {
      const due = content !== undefined && content.value !== null && content.version === command.version && isExpired(content, time);
      return due ? { next: { value: null, deadline: null }, reply: OK } : { next: 'unchanged', reply: NIL };
    }
  }
}

function deadlineOf(option: ExpiryOption, live: Content | undefined, time: number): number | null {
  switch (option.kind) {
    case 'keep':
      return live?.deadline ?? null;
    case 'at':
      return option.at;
    case 'in':
      return time + option.ms;
    case 'none':
      return null;
  }
}
