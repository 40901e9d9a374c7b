/** A small HTTP client for tests: status, headers, raw body and parsed JSON (when the body is JSON). */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  readonly json: any;
}

export async function httpRequest(
  url: string,
  options: { method?: string; body?: Buffer | string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    body: options.body,
    headers: options.headers,
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const body = Buffer.from(await response.arrayBuffer());
  let json: unknown;
  if (body.length > 0 && (response.headers.get('content-type') ?? '').includes('application/json')) json = JSON.parse(body.toString('utf8'));
  return { status: response.status, headers: response.headers, body, json };
}

/** `?key=K[&value=V]` with both percent-encoded. */
export function rpcQuery(key: string, value?: string): string {
  return `?key=${encodeURIComponent(key)}${value === undefined ? '' : `&value=${encodeURIComponent(value)}`}`;
}
