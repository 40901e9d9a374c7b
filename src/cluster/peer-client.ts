import http from 'node:http';
import type { Member } from '../membership/member';
import type { PeerAnswer } from './peer-answer';

/**
 * Asks peers' /rpc/cluster over keep-alive connections, each request bounded by `timeoutMs`. Never throws: a
 * failure or a timeout is an answer of kind `failed`.
 */
export class PeerClient {
  // As many idle sockets kept as may be busy: fewer, and concurrent fan-outs open and close connections constantly.
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 32, maxFreeSockets: 32 });

  constructor(private readonly options: { readonly timeoutMs: number; readonly headers?: Readonly<Record<string, string>> }) {}

  lookup(peer: Member, key: string): Promise<PeerAnswer> {
    return new Promise<PeerAnswer>((resolve) => {
      let settled = false;
      const settle = (answer: PeerAnswer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(answer);
      };
      const url = `${peer.httpUrl}/rpc/cluster?key=${encodeURIComponent(key)}`;
      let request: http.ClientRequest;
      try {
        request = http.get(url, { agent: this.agent, headers: { Accept: 'application/json', ...this.options.headers } }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', () => settle({ kind: 'failed', from: peer.name, reason: 'error' }));
          response.on('end', () => settle(parseAnswer(peer.name, response.statusCode ?? 0, Buffer.concat(chunks))));
        });
      } catch {
        settle({ kind: 'failed', from: peer.name, reason: 'error' });
        return;
      }
      const timer = setTimeout(() => {
        settle({ kind: 'failed', from: peer.name, reason: 'timeout' });
        request.destroy();
      }, this.options.timeoutMs);
      request.on('error', () => settle({ kind: 'failed', from: peer.name, reason: 'error' }));
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function parseAnswer(from: string, status: number, body: Buffer): PeerAnswer {
  try {
    const json = JSON.parse(body.toString('utf8'));
    if (status === 200 && typeof json.value === 'string' && Number.isSafeInteger(json.offset) && Number.isSafeInteger(json.partition)) {
      const value = json.encoding === 'base64' ? Buffer.from(json.value, 'base64') : Buffer.from(json.value, 'utf8');
      return { kind: 'value', from, entry: { value, partition: json.partition, offset: json.offset, timestamp: Number(json.timestamp) || 0 } };
    }
    const error = json?.error;
    if (status === 404 && error?.code === 'NOT_FOUND' && Number.isSafeInteger(error.partition) && Number.isSafeInteger(error.position)) {
      return { kind: 'absent', from, partition: error.partition, position: error.position };
    }
  } catch {
    // Not JSON: fall through to a failure.
  }
  return { kind: 'failed', from, reason: 'error' };
}
