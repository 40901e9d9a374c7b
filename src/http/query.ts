import querystring from 'node:querystring';
import { BitacoraError } from '../errors/bitacora-error';

/** A parsed query string: each name with the raw bytes of each of its values, in order. */
export type Query = Map<string, Buffer[]>;

// Node's querystring has it, its type declarations do not.
const unescapeBuffer = (querystring as unknown as { unescapeBuffer(s: string): Buffer }).unescapeBuffer;

const MALFORMED_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/**
 * Parses a query string into raw bytes rather than strings, so values stay binary-safe (`%FF` is the byte 0xFF)
 * and keys can be checked for valid UTF-8 instead of being silently mangled. A malformed escape is refused.
 */
export function parseQuery(search: string): Query {
  const query: Query = new Map();
  if (search.length === 0) return query;
  for (const pair of search.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    // Without an escape or a '+', unescaping gives each character's low byte: what Latin-1 does, without the
    // regular expressions and the copy (a tenth of a GET's JavaScript before this).
    const plainName = isPlain(rawName);
    const plainValue = isPlain(rawValue);
    if ((!plainName && MALFORMED_PERCENT.test(rawName)) || (!plainValue && MALFORMED_PERCENT.test(rawValue))) {
      throw new BitacoraError('BAD_ENCODING', 'the query string has a malformed percent-escape: encode "%" as %25 and bytes as %XX');
    }
    const name = plainName ? rawName : unescapeBuffer(rawName.replace(/\+/g, ' ')).toString('latin1');
    const value = plainValue ? Buffer.from(rawValue, 'latin1') : unescapeBuffer(rawValue.replace(/\+/g, ' '));
    const values = query.get(name);
    if (values) values.push(value);
    else query.set(name, [value]);
  }
  return query;
}

/** True when `text` has no '%' or '+' and only Latin-1 characters: unescaping would leave it as it is. */
function isPlain(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 37 || c === 43 || c > 0xff) return false;
  }
  return true;
}

/** The single value of `name`, undefined when absent; given twice, it is refused with `code`. */
export function singleParam(query: Query, name: string, code: 'KEY_INVALID' | 'VALUE_AMBIGUOUS'): Buffer | undefined {
  const values = query.get(name);
  if (!values) return undefined;
  if (values.length > 1) throw new BitacoraError(code, `the query parameter "${name}" is given ${values.length} times: give it once`);
  return values[0];
}

/** Splits a request URL into its path and its raw query string. */
export function splitUrl(url: string): { path: string; search: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, search: '' } : { path: url.slice(0, q), search: url.slice(q + 1) };
}
