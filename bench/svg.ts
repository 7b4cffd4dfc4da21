/**
 * A hand-written SVG line chart: latency percentiles (log scale) against achieved request rate, one colour
 * per percentile, dashed for the baseline and solid for callguard. No chart library: ~100 lines of SVG.
 */
import type { LatencyMs } from './ghz.js';
import type { ScenarioResult } from './run-scenario.js';

const WIDTH = 760;
const HEIGHT = 440;
const PAD = { left: 64, right: 170, top: 40, bottom: 52 };
const PERCENTILES: readonly { key: keyof LatencyMs; label: string; colour: string }[] = [
  { key: 'p50', label: 'p50', colour: '#1b9e77' },
  { key: 'p90', label: 'p90', colour: '#7570b3' },
  { key: 'p99', label: 'p99', colour: '#d95f02' },
  { key: 'p999', label: 'p99.9', colour: '#e7298a' },
];

const escapeXml = (text: string): string => text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Rounds `value` up to a round number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × a power of ten). */
function niceCeil(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((step) => step * power >= value) ?? 10) * power;
}

export function latencyChart(series: readonly ScenarioResult[], subtitle: string): string {
  const points = series.flatMap((s) => s.points);
  const values = points.flatMap((p) => PERCENTILES.map(({ key }) => p.latencyMs[key])).filter((v) => v > 0 && Number.isFinite(v));
  const maxRate = niceCeil(Math.max(1000, ...points.map((p) => p.achievedRps)));
  const minExp = Math.floor(Math.log10(Math.min(0.1, ...values)));
  const maxExp = Math.ceil(Math.log10(Math.max(1, ...values)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (rate: number): number => PAD.left + (rate / maxRate) * plotW;
  const y = (ms: number): number => PAD.top + plotH - ((Math.log10(Math.max(ms, 10 ** minExp)) - minExp) / (maxExp - minExp)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${PAD.left}" y="18" font-size="15" font-weight="bold">Check latency vs request rate</text>`,
    `<text x="${PAD.left}" y="33" fill="#555">${escapeXml(subtitle)}</text>`,
  ];
  for (let exp = minExp; exp <= maxExp; exp++) {
    const ms = 10 ** exp;
    out.push(
      `<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(ms)}" y2="${y(ms)}" stroke="#ddd"/>`,
      `<text x="${PAD.left - 6}" y="${y(ms) + 4}" text-anchor="end">${ms >= 1 ? ms : ms.toFixed(-exp)}</text>`,
    );
  }
  for (let tick = 0; tick <= 5; tick++) {
    const rate = (maxRate / 5) * tick;
    out.push(
      `<line x1="${x(rate)}" x2="${x(rate)}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#eee"/>`,
      `<text x="${x(rate)}" y="${PAD.top + plotH + 16}" text-anchor="middle">${rate}</text>`,
    );
  }
  out.push(
    `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">achieved requests per second (fixed rates 1k, 2k, 5k and saturation: 50 concurrent calls, no rate limit)</text>`,
    `<text transform="translate(16 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">latency, ms (log scale)</text>`,
  );
  for (const s of series) {
    const dash = s.target === 'baseline' ? ' stroke-dasharray="6 4"' : '';
    const sorted = [...s.points].sort((a, b) => a.achievedRps - b.achievedRps);
    for (const { key, colour } of PERCENTILES) {
      const coords = sorted.filter((p) => Number.isFinite(p.latencyMs[key])).map((p) => `${x(p.achievedRps).toFixed(1)},${y(p.latencyMs[key]).toFixed(1)}`);
      out.push(`<polyline points="${coords.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
      for (const c of coords) {
        const [cx, cy] = c.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${colour}"/>`);
      }
    }
  }
  const legendX = PAD.left + plotW + 16;
  PERCENTILES.forEach(({ label, colour }, i) => {
    const ly = PAD.top + 10 + i * 20;
    out.push(`<line x1="${legendX}" x2="${legendX + 24}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`);
    out.push(`<text x="${legendX + 30}" y="${ly + 4}">${label}</text>`);
  });
  const styleY = PAD.top + 10 + PERCENTILES.length * 20 + 14;
  out.push(
    `<line x1="${legendX}" x2="${legendX + 24}" y1="${styleY}" y2="${styleY}" stroke="#333" stroke-width="2"/>`,
    `<text x="${legendX + 30}" y="${styleY + 4}">callguard (cached)</text>`,
    `<line x1="${legendX}" x2="${legendX + 24}" y1="${styleY + 20}" y2="${styleY + 20}" stroke="#333" stroke-width="2" stroke-dasharray="6 4"/>`,
    `<text x="${legendX + 30}" y="${styleY + 24}">no-op baseline</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
