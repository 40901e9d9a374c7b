import { createHash, timingSafeEqual } from 'node:crypto';

/** Why a request's credentials were refused; part of the UNAUTHORIZED message. */
export type TokenRefusal = 'missing' | 'mismatch';

/**
 * The shared secret of AUTH_TOKEN. Presented tokens are compared as SHA-256 digests with timingSafeEqual, so
 * neither the comparison's time nor the lengths involved tell a guesser how close it came.
 */
export class AccessToken {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** undefined when `presented` (a bare token, or "Bearer <token>") is this token; else why not. */
  check(presented: string | Buffer | undefined): TokenRefusal | undefined {
    if (presented === undefined || presented.length === 0) return 'missing';
    const text = typeof presented === 'string' ? presented : presented.toString('utf8');
    const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(text);
    const token = match ? match[1]! : text.trim();
    if (token.length === 0) return 'missing';
    return timingSafeEqual(digest(token), this.expected) ? undefined : 'mismatch';
  }
}

/** The Authorization header value that carries `token`. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
