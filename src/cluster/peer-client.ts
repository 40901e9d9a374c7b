import http from 'node:http';
import type { Member } from '../membership/member';
import type { PeerAnswer } from './peer-answer';
import { decodePeerLookup } from './peer-lookup-wire';

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
          response.on('end', () => settle(decodePeerLookup(peer.name, response.statusCode ?? 0, Buffer.concat(chunks))));
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
