/**
 * Redis's glob (stringmatchlen), as SCAN MATCH and KEYS use it: `*` any run, `?` one character, `[abc]`,
 * `[^a]`, `[a-z]`, and `\` to take the next character as it is. Compiled once to a RegExp.
 */
export function globMatcher(pattern: string): (key: string) => boolean {
  if (pattern === '*') return () => true;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) source += escape(pattern[++i]!);
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        source += escape(c);
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      let set = '';
      for (let j = 0; j < body.length; j++) {
        if (body[j] === '\\' && j + 1 < body.length) set += inClass(body[++j]!);
        else if (body[j + 1] === '-' && j + 2 < body.length) {
          const [from, to] = [body[j]!, body[j + 2]!].sort();
          set += `${inClass(from!)}-${inClass(to!)}`;
          j += 2;
        } else set += inClass(body[j]!);
      }
      source += set === '' ? (negate ? '[\\s\\S]' : '(?!)') : `[${negate ? '^' : ''}${set}]`;
      i = close;
    } else source += escape(c);
  }
  const regex = new RegExp(`^${source}$`, 'u');
  return (key) => regex.test(key);
}

function escape(c: string): string {
  return c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

function inClass(c: string): string {
  return c.replace(/[\\^\]-]/g, '\\$&');
}
