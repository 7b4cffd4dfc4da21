/** RFC 3339 timestamps as the keys file and `keys --expires` write them. */
// RFC 3339 §5.6 date-time, with an explicit offset.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch, or undefined for anything that is not an RFC 3339 timestamp. */
export function parseTimestamp(value: string): number | undefined {
  const match = RFC3339.exec(value);
  if (match === null) return undefined;
  // RFC 3339 §5.7: the day must exist in its month and hours end at 23; Date.parse would roll
  // 2027-02-30 over to March 2 and read T24:00 as the next day.
  const [, year, month, day, hour] = match;
  if (Number(hour) > 23 || Number(day) > new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate()) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}
