#!/usr/bin/env node

const USAGE = `usage: callguard <command> [options]

commands:
  serve --config FILE   run the ext_authz gRPC server
  check --config FILE   validate a configuration and its function schemas; exit 1 listing every error
  verify-log [--key PUBLIC.pem] (FILE... | --rotated FILE)
                        check the decision log's hash chain (and signed checkpoints); exit 1 at the first broken line
  keys (create | list | revoke | rotate) (--config FILE | --keys FILE) [options]
                        manage API keys (owner, expiry, revocation, rotation); --help for options
  tail [options] [FILE...]
                        follow or search the decision log (stdin, one file followed across rotation, or files
                        read in order); filter by function, outcome, code, subject, time; --help for options
  test [CASES...] --config FILE [--watch]
                        decide table-driven cases offline as the server would; exit 1 if one fails
`;

const [command, ...rest] = process.argv.slice(2);
// Each command is loaded when it runs: `keys` or `tail` need not load the server.
const commands: Record<string, (args: string[]) => Promise<number>> = {
  serve: async (args) => (await import('./serve.js')).runServe(args),
  check: async (args) => (await import('./check.js')).runCheck(args),
  'verify-log': async (args) => (await import('./verify-log.js')).runVerifyLog(args),
  tail: async (args) => (await import('./tail.js')).runTail(args),
  keys: async (args) => (await import('./keys.js')).runKeys(args),
  test: async (args) => (await import('./test.js')).runTest(args),
};
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
