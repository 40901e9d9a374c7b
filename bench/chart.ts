import { describeTarget, type Figure, formatNumber, targetScore } from './report';

const BAR_AREA = 420;
/** Room right of a bar for its value and target. */
const VALUE_AREA = 300;
/** Width of one character of the 12 px sans-serif labels, generously (the SVG has no text measuring). */
const CHAR_WIDTH = 6.6;
const ROW = 22;
const BAR = 14;
const MET = '#2e7d32';
const MISSED = '#c62828';
const BITACORA = '#1565c0';
const REDIS = '#9e9e9e';
/** Scores (value relative to target) are drawn up to this multiple; longer bars are cut and marked. */
const MAX_SCORE = 2;

/**
 * An SVG of a run's headline figures, with no chart library: (1) every figure that has a target, as a bar of its
 * value relative to the target (the line at 1× is the target; for "at most" targets the bar is target / value, so
 * longer is better everywhere); (2) throughput of each get/set row next to Redis at the same concurrency.
 */
export function renderChart(figures: readonly Figure[], title: string): string {
  const parts: string[] = [];
  const labels = figures.map((row) => `${row.scenario}: ${row.label}`);
  const LABEL_WIDTH = Math.ceil(Math.max(200, ...labels.map((label) => label.length * CHAR_WIDTH)) + 24);
  const WIDTH = LABEL_WIDTH + BAR_AREA + VALUE_AREA;
  let y = 34;
  parts.push(text(16, 22, title, { size: 16, weight: 'bold' }));

  const targeted = figures.filter((row) => targetScore(row) !== undefined);
  if (targeted.length > 0) {
    y += 12;
    parts.push(text(16, y, 'Against the targets (bar = value relative to target; longer is better; the line is the target)', { weight: 'bold' }));
    y += 10;
    const x0 = LABEL_WIDTH;
    const scale = BAR_AREA / MAX_SCORE;
    const top = y;
    const targetX = x0 + scale;
    parts.push(`<line x1="${targetX}" y1="${top - 4}" x2="${targetX}" y2="${top + targeted.length * ROW}" stroke="#000" stroke-dasharray="4 3"/>`);
    for (const row of targeted) {
      const score = targetScore(row)!;
      const length = Math.max(1, Math.min(score, MAX_SCORE) * scale);
      parts.push(text(x0 - 8, y + BAR - 2, `${row.scenario}: ${row.label}`, { anchor: 'end' }));
      parts.push(`<rect x="${x0}" y="${y}" width="${length.toFixed(1)}" height="${BAR}" fill="${row.met ? MET : MISSED}"/>`);
      if (score > MAX_SCORE) parts.push(text(x0 + length - 4, y + BAR - 3, '»', { anchor: 'end', fill: '#fff' }));
      const shown = row.target!.field === 'p99Ms' ? `p99 ${formatNumber(row.p99Ms!)} ms` : `${formatNumber(row.value)} ${row.unit}`;
      parts.push(text(x0 + length + 6, y + BAR - 2, `${shown} (${describeTarget(row.target!)})`, { size: 11 }));
      y += ROW;
    }
    parts.push(text(targetX, y + 12, 'target', { anchor: 'middle', size: 11 }));
    y += 24;
  }

  const throughput = figures.filter((row) => row.operation && row.concurrency !== undefined);
  if (throughput.length > 0) {
    y += 12;
    parts.push(text(16, y, 'Operations per second at the same concurrency (Bitacora blue, Redis grey)', { weight: 'bold' }));
    y += 10;
    const max = Math.max(...throughput.map((row) => row.value));
    const x0 = LABEL_WIDTH;
    for (const row of sortForComparison(throughput)) {
      const length = Math.max(1, (row.value / max) * BAR_AREA);
      const label = row.system === 'redis' ? `Redis ${row.operation!.toUpperCase()}, ${row.concurrency} concurrent` : `${row.scenario}: ${row.label}`;
      parts.push(text(x0 - 8, y + BAR - 2, label, { anchor: 'end' }));
      parts.push(`<rect x="${x0}" y="${y}" width="${length.toFixed(1)}" height="${BAR}" fill="${row.system === 'redis' ? REDIS : BITACORA}"/>`);
      const ratio = row.vsRedis === undefined ? '' : ` (${row.vsRedis.toFixed(2)}× Redis)`;
      parts.push(text(x0 + length + 6, y + BAR - 2, `${formatNumber(row.value)} ops/s${ratio}`, { size: 11 }));
      y += ROW;
    }
    y += 8;
  }

  const height = Math.ceil(y + 10);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

/** Rows of one operation and concurrency next to each other, Redis last in each group. */
function sortForComparison(rows: readonly Figure[]): Figure[] {
  const key = (row: Figure): string => `${row.operation === 'get' ? 0 : 1}-${String(row.concurrency).padStart(5, '0')}-${row.system === 'redis' ? 1 : 0}`;
  return [...rows].sort((a, b) => key(a).localeCompare(key(b)));
}

function text(x: number, y: number, content: string, style: { size?: number; weight?: string; anchor?: string; fill?: string } = {}): string {
  const attributes = [
    `x="${x.toFixed(1)}"`,
    `y="${y.toFixed(1)}"`,
    style.size ? `font-size="${style.size}"` : '',
    style.weight ? `font-weight="${style.weight}"` : '',
    style.anchor ? `text-anchor="${style.anchor}"` : '',
    style.fill ? `fill="${style.fill}"` : '',
  ].filter(Boolean);
  return `<text ${attributes.join(' ')}>${escapeXml(content)}</text>`;
}

export function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
