import { parseArgs } from 'node:util';
import { REASON_CODES } from '../errors.js';
import type { LineCriteria } from './create-line-filter.js';
import { parseTimeArg } from './parse-time-arg.js';

/** What `callguard tail` was asked to do. */
export interface TailOptions {
  /** Where to read: standard input, one file followed, or files read in order to their end. */
  readonly mode: 'stdin' | 'follow' | 'files';
  /** Files in reading order (for `follow`, the one file); with `rotated`, still to be expanded. */
  readonly files: readonly string[];
  /** `--rotated FILE`: the file's rotated files, oldest first, then the file (see `rotatedFiles`). */
  readonly rotated?: string;
  /** Following without `--since`: start at the file's last lines. */
  readonly lines: number;
  readonly criteria: LineCriteria;
  readonly json: boolean;
  readonly noColor: boolean;
  readonly verify: boolean;
  readonly help: boolean;
}

export type ParsedTailArgs = { readonly ok: true; readonly options: TailOptions } | { readonly ok: false; readonly problem: string };

const OPTIONS = {
  function: { type: 'string', multiple: true },
  outcome: { type: 'string' },
  code: { type: 'string', multiple: true },
  subject: { type: 'string', multiple: true },
  since: { type: 'string' },
  until: { type: 'string' },
  lines: { type: 'string', short: 'n' },
  'no-follow': { type: 'boolean' },
  rotated: { type: 'string' },
  json: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  verify: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DEFAULT_LINES = 10;
const CODES = new Set<string>(REASON_CODES);

/** Parses and checks `tail`'s arguments; `now` (epoch ms) anchors relative times (`10m`). */
export function parseTailArgs(args: readonly string[], now: number): ParsedTailArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...args], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // node:util parseArgs: an unknown option, or one without its value.
    if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') === true) return { ok: false, problem: (err as Error).message };
    throw err;
  }
  const { values, positionals } = parsed;
  const fail = (problem: string): ParsedTailArgs => ({ ok: false, problem });

  const { outcome } = values;
  if (outcome !== undefined && outcome !== 'allow' && outcome !== 'deny' && outcome !== 'would-deny') {
    return fail(`--outcome ${JSON.stringify(outcome)}: must be allow, deny or would-deny`);
  }
  const unknownCode = values.code?.find((c) => !CODES.has(c));
  if (unknownCode !== undefined) return fail(`--code ${JSON.stringify(unknownCode)}: not a reason code (see README "Reason codes")`);
  const badFunction = values.function?.find((f) => f === '' || f.slice(0, -1).includes('*'));
  if (badFunction !== undefined) return fail(`--function ${JSON.stringify(badFunction)}: a name, or a prefix ending in * (orders.*)`);
  const times: { since?: number; until?: number } = {};
  for (const key of ['since', 'until'] as const) {
    const value = values[key];
    if (value === undefined) continue;
    const ms = parseTimeArg(value, now);
    if (ms === undefined)
      return fail(`--${key} ${JSON.stringify(value)}: not an ISO-8601 time (2026-12-02T19:54:30Z) or a span back from now (30s, 10m, 2h, 1d)`);
    // A date alone in --until means the whole of that day (both ends are inclusive).
    times[key] = key === 'until' && /^\d{4}-\d\d-\d\d$/.test(value) ? ms + 86_400_000 - 1 : ms;
  }
  if (times.since !== undefined && times.until !== undefined && times.since > times.until) return fail('--since is after --until');
  const lines = values.lines === undefined ? DEFAULT_LINES : /^[0-9]{1,9}$/.test(values.lines) ? Number(values.lines) : undefined;
  if (lines === undefined) return fail(`--lines ${JSON.stringify(values.lines)}: must be a whole number`);

  const stdin = positionals.length === 0 || (positionals.length === 1 && positionals[0] === '-');
  if (values.rotated !== undefined && positionals.length > 0) return fail('--rotated FILE reads FILE and its rotated files: give no other FILE');
  if (values.rotated === undefined && !stdin && positionals.includes('-')) return fail('- (standard input) cannot be read together with files');
  const mode =
    values.rotated !== undefined
      ? 'files'
      : stdin
        ? 'stdin'
        : positionals.length === 1 && values['no-follow'] !== true && times.until === undefined
          ? 'follow'
          : 'files';

  const criteria: LineCriteria = {
    ...(values.function !== undefined ? { functions: values.function } : {}),
    ...(outcome !== undefined ? { outcome } : {}),
    ...(values.code !== undefined ? { codes: values.code } : {}),
    ...(values.subject !== undefined ? { subjects: values.subject } : {}),
    ...times,
  };
  return {
    ok: true,
    options: {
      mode,
      files: mode === 'stdin' ? [] : positionals,
      ...(values.rotated !== undefined ? { rotated: values.rotated } : {}),
      lines,
      criteria,
      json: values.json === true,
      noColor: values['no-color'] === true,
      verify: values.verify === true,
      help: values.help === true,
    },
  };
}
