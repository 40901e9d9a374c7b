import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Bitacora's version, from package.json (two folders up from both src/ and dist/ files). */
export const VERSION: string = (() => {
  try {
    return String(JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version);
  } catch {
    return 'unknown';
  }
})();
