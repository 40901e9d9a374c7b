import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../src/errors/error-codes';

describe('error catalogue', () => {
  it('is documented in docs/api.md with the same statuses', () => {
    const doc = readFileSync(path.join(__dirname, '../../docs/api.md'), 'utf8');
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      assert.match(doc, new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`), `docs/api.md lacks a row "| \`${code}\` | ${status} |"`);
    }
    const documented = [...doc.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*\d{3}\s*\|/gm)].map((m) => m[1]);
    for (const code of documented) assert.ok(code in ERROR_CODES, `docs/api.md documents ${code}, which the code does not have`);
  });
});
