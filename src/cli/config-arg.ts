import { parseArgs } from 'node:util';

/** Parses `--config FILE` (the only option both commands take). */
export function configArg(args: string[]): string {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } }, strict: true });
  if (values.config === undefined) throw new Error('missing --config FILE');
  return values.config;
}
