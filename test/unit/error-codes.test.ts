import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { BitacoraClientError } from '../../src/client/client-error';
import { COMMAND_SPECS } from '../../src/commands/command-specs';
import { ConfigError } from '../../src/config/config-error';
import { BitacoraError, respErrorLine } from '../../src/errors/bitacora-error';
import { canRetry, ERROR_CODES, type ErrorCode, EXIT_CODES } from '../../src/errors/error-codes';
import { StackError } from '../../src/stack/stack-error';

/** The rows of docs/api.md's error tables: code, then status, Avro, RESP, exit, retry as written. */
function documentedRows(): Map<string, string[]> {
  const doc = readFileSync(path.join(__dirname, '../../docs/api.md'), 'utf8');
  const rows = new Map<string, string[]>();
  for (const match of doc.matchAll(/^\|\s*`([A-Z_]+)`\s*\|(.*)\|\s*$/gm)) {
    const cells = match[2].split('|').map((cell) => cell.trim().replace(/^`|`$/g, ''));
    if (cells.length >= 6) rows.set(match[1], cells.slice(0, 5));
  }
  return rows;
}

describe('error catalogue', () => {
  it('is documented in docs/api.md, every column as the code has it', () => {
    const rows = documentedRows();
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      const expected = [spec.status ?? '—', spec.avro ?? '—', spec.resp ?? '—', spec.exit, spec.retry].map(String);
      assert.deepEqual(rows.get(code), expected, `docs/api.md's row for ${code} (status, Avro, RESP, exit, retry)`);
    }
    for (const code of rows.keys()) assert.ok(code in ERROR_CODES, `docs/api.md documents ${code}, which the code does not have`);
  });

  it('gives every code that reaches a protocol an HTTP status, and only those an Avro or RESP form', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      if (spec.status === null) assert.ok(spec.avro === null && spec.resp === null, `${code} has no HTTP status but a protocol form`);
      else assert.ok(spec.resp !== null || code === 'NOT_FOUND', `${code} has no RESP error line`);
    }
  });

  it('folds the client, stack and configuration errors in, with the catalogue\'s exit codes', () => {
    const config = new ConfigError('API_PORT', 'API_PORT must be a port');
    assert.ok(config instanceof BitacoraError);
    assert.equal(config.code, 'CONFIG_INVALID');
    assert.equal(config.exitCode, EXIT_CODES.usage);
    const stack = new StackError('PORT_IN_USE', 'port 9092 is taken');
    assert.ok(stack instanceof BitacoraError);
    assert.equal(stack.exitCode, EXIT_CODES.failed);
    const client = new BitacoraClientError('NOT_READY', 'loading');
    assert.equal(client.kind, 'unavailable');
    assert.equal(client.exitCode, EXIT_CODES.unavailable);
    assert.equal(new BitacoraClientError('TOO_MANY_KEYS', 'x').kind, 'bad-input');
    assert.equal(new BitacoraClientError('APPLY_TIMEOUT', 'x').kind, 'timeout');
    assert.equal(new BitacoraClientError('NO_NODE', 'x').kind, 'transport');
  });

  it('says what may be retried, per command: a write that may have happened only when the command is idempotent', () => {
    const increment = { idempotent: false };
    for (const code of ['KAFKA_UNAVAILABLE', 'APPLY_TIMEOUT', 'TRANSPORT'] as ErrorCode[]) {
      assert.equal(canRetry(code, COMMAND_SPECS.set), true, `${code} on set`);
      assert.equal(canRetry(code, increment), false, `${code} on an increment`);
    }
    for (const code of ['NOT_READY', 'SHUTTING_DOWN'] as ErrorCode[]) assert.equal(canRetry(code, increment), true, code);
    for (const code of ['KEY_MISSING', 'VALUE_TOO_LARGE', 'UNAUTHORIZED', 'INTERNAL', 'NO_NODE'] as ErrorCode[]) {
      assert.equal(canRetry(code, COMMAND_SPECS.get), false, code);
    }
  });

  it('writes one Redis-style RESP error line per code', () => {
    assert.equal(respErrorLine(new BitacoraError('NOT_READY', 'still loading')), '-LOADING NOT_READY: still loading\r\n');
    assert.equal(respErrorLine(new BitacoraError('UNAUTHORIZED', 'send AUTH')), '-NOAUTH UNAUTHORIZED: send AUTH\r\n');
    assert.equal(respErrorLine(new BitacoraError('KEY_TOO_LARGE', 'too\r\nlong')), '-ERR KEY_TOO_LARGE: too long\r\n');
  });
});
