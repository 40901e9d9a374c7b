/** What a node publishes about itself in its ZooKeeper znode (JSON), and what peers read. */
export interface Member {
  readonly name: string;
  /** Base URL peers use for /rpc/cluster, e.g. http://10.0.0.5:8080. */
  readonly httpUrl: string;
  /** host:port of the Avro socket RPC. */
  readonly avroAddress: string;
  /** ISO-8601 time the node started. */
  readonly startedAt: string;
  /** Bitacora version the node runs. */
  readonly version: string;
}

/** Reads a znode's data as a Member; undefined when it is not one (a foreign or corrupt znode is ignored). */
export function parseMember(name: string, data: Buffer | undefined): Member | undefined {
  if (!data) return undefined;
  try {
    const parsed = JSON.parse(data.toString('utf8')) as Partial<Member>;
    if (parsed.name !== name || typeof parsed.httpUrl !== 'string' || !/^https?:\/\//.test(parsed.httpUrl)) return undefined;
    return {
      name,
      httpUrl: parsed.httpUrl.replace(/\/+$/, ''),
      avroAddress: String(parsed.avroAddress ?? ''),
      startedAt: String(parsed.startedAt ?? ''),
      version: String(parsed.version ?? ''),
    };
  } catch {
    return undefined;
  }
}

export function encodeMember(member: Member): Buffer {
  return Buffer.from(JSON.stringify(member), 'utf8');
}
