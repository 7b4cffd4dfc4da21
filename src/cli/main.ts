#!/usr/bin/env node
import { runCheck } from './check.js';
import { runServe } from './serve.js';

const USAGE = `usage: callguard <command> [options]

commands:
  serve --config FILE   run the ext_authz gRPC server
  check --config FILE   validate a configuration and its function schemas; exit 1 listing every error
`;

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (args: string[]) => Promise<number>> = { serve: runServe, check: runCheck };
const run = command !== undefined ? commands[command] : undefined;
if (run === undefined) {
  process.stderr.write(USAGE);
  process.exitCode = 2;
} else {
  run(rest).then(
    (code) => {
      if (code !== 0) process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`callguard: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
