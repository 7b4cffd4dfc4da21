const RELATIVE = /^([0-9]+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** ISO-8601 date-times: a date, optionally a time, optionally a zone (none means UTC, as in the log). */
const ISO = /^\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?$/;

/**
 * `--since` / `--until`: an ISO-8601 date-time (`2026-12-02T19:54:30Z`; without a zone it is UTC,
 * like the log's own times), or a span back from `now`: `30s`, `10m`, `2h`, `1d`.
 * Returns epoch milliseconds, or undefined when the value is neither.
 */
export function parseTimeArg(value: string, now: number): number | undefined {
  const relative = RELATIVE.exec(value);
  if (relative !== null) return now - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
  if (!ISO.test(value)) return undefined;
  const zoned = /(?:Z|[+-]\d\d:?\d\d)$/.test(value) || !value.includes(':') ? value : `${value}Z`;
  const ms = Date.parse(zoned.replace(' ', 'T'));
  if (Number.isNaN(ms)) return undefined;
  // V8 rolls impossible dates over (2026-02-30 → 2026-03-02): refuse them instead.
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return m >= 1 && m <= 12 && d >= 1 && d <= days ? ms : undefined;
}
