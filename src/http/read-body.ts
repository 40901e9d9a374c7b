import type { IncomingMessage } from 'node:http';
import { BitacoraError } from '../errors/bitacora-error';
import type { Limits } from '../commands/command-context';
import { valueTooLarge } from '../commands/key-validation';

/**
 * Reads a request body of at most MAX_VALUE_BYTES. A declared length over the limit is refused before reading;
 * a body that grows past it is refused as soon as it does. A body cut off by the client is BAD_REQUEST.
 */
export function readBody(req: IncomingMessage, limits: Limits): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limits.maxValueBytes) {
    return Promise.reject(valueTooLarge(Number(declared), limits));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (error: Error | undefined, body?: Buffer): void => {
      if (done) return;
      done = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error) reject(error);
      else resolve(body!);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limits.maxValueBytes) finish(valueTooLarge(size, limits));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    const onError = (): void => finish(new BitacoraError('BAD_REQUEST', 'the request body could not be read'));
    const onClose = (): void => finish(new BitacoraError('BAD_REQUEST', 'the client closed the connection before the body ended'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}
