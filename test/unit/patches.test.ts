import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Service, Type, types as avroTypes } from 'avsc';
import { acceptEveryCallId, AVSC_CALL_IDS_PATCHED_VERSION } from '../../src/patches/avsc-call-ids';
import { AVSC_PATCHED_VERSION } from '../../src/patches/avsc-decoding';
import { installLinearMessageGrouping, KAFKAJS_MESSAGE_GROUPING_PATCHED_VERSION } from '../../src/patches/kafkajs-message-grouping';
import { installFastProduceEncoding, KAFKAJS_PRODUCE_ENCODING_PATCHED_VERSION } from '../../src/patches/kafkajs-produce-encoding';
import { installFastRecordDecoding, KAFKAJS_RECORD_DECODING_PATCHED_VERSION } from '../../src/patches/kafkajs-record-decoding';
import { ConnectionManager, ZOOKEEPER_CLIENT_PATCHED_VERSION } from '../../src/patches/zookeeper-socket-data';

const installed = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;
const prototypeOf = (type: unknown): Record<string, unknown> => (type as { prototype: Record<string, unknown> }).prototype;

// Each patch rewrites a library's internals, written against one version. When the library changes, these fail
// so the patch is reviewed (and its version updated) rather than silently applied to code it was not written for.
describe('library patches (src/patches/) against the installed libraries', () => {
  it('avsc is the version the decoding and call-id patches were written for', () => {
    assert.equal(installed('avsc'), AVSC_PATCHED_VERSION, 'review src/patches/avsc-decoding.ts against the new avsc, then update its version');
    assert.equal(installed('avsc'), AVSC_CALL_IDS_PATCHED_VERSION, 'review src/patches/avsc-call-ids.ts against the new avsc, then update its version');
  });

  it('avsc still has the internals the decoding patch replaces and calls', () => {
    for (const type of [avroTypes.ArrayType, avroTypes.MapType, avroTypes.StringType]) {
      assert.equal(typeof prototypeOf(type)._read, 'function');
    }
    const tap = prototypeOf((require('avsc/lib/utils') as { Tap: unknown }).Tap);
    for (const method of ['readLong', 'skipLong', 'readString']) assert.equal(typeof tap[method], 'function', `Tap.${method}`);
    // An array's items and a map's values are where the patched readers find them.
    const array = Type.forSchema({ type: 'array', items: 'int' }) as unknown as { itemsType?: unknown };
    const map = Type.forSchema({ type: 'map', values: 'int' }) as unknown as { valuesType?: unknown };
    assert.ok(array.itemsType && map.valuesType, 'ArrayType.itemsType / MapType.valuesType');
  });

  it("avsc's server channels still scope call ids with _matchesPrefix", () => {
    const service = Service.forProtocol({ protocol: 'P', messages: {} });
    const server = service.createServer({ silent: true } as object) as unknown as { createChannel(t: object, o: object): object };
    const channel = server.createChannel({ readable: new PassThrough({ objectMode: true }), writable: new PassThrough({ objectMode: true }) }, { objectMode: true });
    acceptEveryCallId(channel);
    assert.equal((channel as { _matchesPrefix(id: number): boolean })._matchesPrefix(0x7fff_0001), true);
  });

  it('kafkajs is the version the record-decoding patch was written for, with the modules it replaces and uses', () => {
    assert.equal(installed('kafkajs'), KAFKAJS_RECORD_DECODING_PATCHED_VERSION, 'review src/patches/kafkajs-record-decoding.ts against the new kafkajs, then update its version');
    for (const module of ['recordBatch/record/v0/decoder', 'recordBatch/header/v0/decoder']) {
      assert.equal(typeof require(`kafkajs/src/protocol/${module}`), 'function', module);
    }
    // Resolved, not loaded: loading the batch decoder here would keep kafkajs' own record decoder for the whole run.
    assert.ok(require.resolve('kafkajs/src/protocol/recordBatch/v0/decoder'));
    assert.equal(installFastRecordDecoding(), 'patched', 'the root hooks installed the patch before any fetch');
    assert.equal((require('kafkajs/src/protocol/timestampTypes') as { LOG_APPEND_TIME: number }).LOG_APPEND_TIME, 1);
  });

  it('kafkajs is the version the produce-encoding patch was written for, with the modules it replaces and uses', () => {
    assert.equal(installed('kafkajs'), KAFKAJS_PRODUCE_ENCODING_PATCHED_VERSION, 'review src/patches/kafkajs-produce-encoding.ts against the new kafkajs, then update its version');
    assert.equal(installFastProduceEncoding(), 'patched', 'the root hooks installed the patch before any produce request');
    // v4 to v7 reuse v3's request with their own version number: the patched v3 covers them only while they do.
    const builtOn: Record<string, string> = { v4: 'v3', v5: 'v3', v6: 'v5', v7: 'v6' };
    for (const [version, base] of Object.entries(builtOn)) {
      const source = readFileSync(require.resolve(`kafkajs/src/protocol/requests/produce/${version}/request.js`), 'utf8');
      assert.ok(source.includes(`require('../${base}/request')`), `produce ${version} still builds on ${base}'s request`);
      assert.doesNotMatch(source, /encode/, `produce ${version} adds no encoding of its own`);
    }
    assert.equal(typeof require('kafkajs/src/protocol/recordBatch/crc32C'), 'function');
  });

  it('kafkajs is the version the message-grouping patch was written for, and its producer still takes the grouping from that module', () => {
    assert.equal(installed('kafkajs'), KAFKAJS_MESSAGE_GROUPING_PATCHED_VERSION, 'review src/patches/kafkajs-message-grouping.ts against the new kafkajs, then update its version');
    assert.equal(installLinearMessageGrouping(), 'patched', 'the root hooks installed the patch before kafkajs was loaded');
    const source = readFileSync(require.resolve('kafkajs/src/producer/sendMessages.js'), 'utf8');
    assert.ok(source.includes("require('./groupMessagesPerPartition')"), 'sendMessages.js still requires the grouping module');
  });

  it('the CLI installs the message-grouping patch before it loads kafkajs', function () {
    this.timeout(30_000);
    const root = path.join(__dirname, '../..');
    // A fresh process loading the CLI as bin/bitacora.js does (from the sources here): is kafkajs' grouping the patch's?
    const check =
      "require('./src/cli/main.ts'); require('kafkajs');" +
      "const cached = require.cache[require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js')];" +
      "process.stdout.write(String(cached !== undefined && cached.exports === require('./src/patches/kafkajs-message-grouping.ts').groupMessagesPerPartition));";
    const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', check], { cwd: root, encoding: 'utf8', timeout: 25_000 });
    assert.equal(out, 'true');
  });

  it('node-zookeeper-client is the version the socket-data patch was written for, with the internals it wraps', () => {
    assert.equal(installed('node-zookeeper-client'), ZOOKEEPER_CLIENT_PATCHED_VERSION, 'review src/patches/zookeeper-socket-data.ts, then update its version');
    assert.equal(typeof ConnectionManager.prototype.onSocketData, 'function');
    // The patch clears these two fields of the connection whose bytes failed to parse.
    const source = readFileSync(require.resolve('node-zookeeper-client/lib/ConnectionManager.js'), 'utf8');
    assert.match(source, /this\.pendingBuffer\b/);
    assert.match(source, /this\.socket\b/);
  });
});
