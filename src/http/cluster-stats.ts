import type { Member } from '../membership/member';

/** One member's figures as the status page shows them: its /stats, or why they could not be had. */
export type MemberStats = {
  readonly name: string;
  readonly httpUrl: string;
  readonly self: boolean;
  readonly version: string;
  readonly startedAt: string;
} & ({ readonly reachable: true; readonly stats: Record<string, unknown> } | { readonly reachable: false; readonly error: string });

/** How long /cluster/stats waits for each peer's /stats: a status page refreshing every 2 s must not hang on one. */
export const CLUSTER_STATS_TIMEOUT_MS = 1_000;

/** A /stats answer is a few hundred bytes per partition; anything far larger is not one. */
const MAX_STATS_BYTES = 1_000_000;

/**
 * Every member's /stats, fetched in parallel, each bounded by `timeoutMs`; this node's own come from `selfStats`
 * without a request. Never throws: an unreachable or failing peer is an entry with `reachable: false`.
 */
export async function fetchClusterStats(
  members: ReadonlyArray<Member & { self: boolean }>,
  options: { selfStats: () => Record<string, unknown>; timeoutMs: number },
): Promise<MemberStats[]> {
  return Promise.all(
    members.map(async (member): Promise<MemberStats> => {
      const base = { name: member.name, httpUrl: member.httpUrl, self: member.self, version: member.version, startedAt: member.startedAt };
      if (member.self) return { ...base, reachable: true, stats: options.selfStats() };
      try {
        return { ...base, reachable: true, stats: await fetchStats(member.httpUrl, options.timeoutMs) };
      } catch (error) {
        return { ...base, reachable: false, error: describe(error, options.timeoutMs) };
      }
    }),
  );
}

async function fetchStats(httpUrl: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const response = await fetch(`${httpUrl}/stats`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`/stats answered ${response.status}`);
  }
  const text = await response.text();
  if (text.length > MAX_STATS_BYTES) throw new Error(`/stats answered ${text.length} bytes, more than a node's figures take`);
  const parsed: unknown = JSON.parse(text);
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('/stats did not answer a JSON object');
  return parsed as Record<string, unknown>;
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  // fetch's own message is a bare "fetch failed"; the cause says what failed (ECONNREFUSED, ENOTFOUND, ...).
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return `unreachable (${cause.code})`;
  if (error instanceof SyntaxError) return '/stats did not answer JSON';
  return error instanceof Error ? error.message : String(error);
}
