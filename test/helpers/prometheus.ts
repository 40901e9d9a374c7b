import { httpRequest } from './http-client';

/** The value of one series in Prometheus text, matched by name and a label subset. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** The sum of every series of `name` (all label values). */
export function sampleSum(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** A node's /metrics as text. */
export async function scrape(nodeUrl: string): Promise<string> {
  return (await httpRequest(`${nodeUrl}/metrics`)).body.toString('utf8');
}
