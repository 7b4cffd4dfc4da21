import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { compileInputs } from '../decision-core.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { listToolServers, unlistedProblems } from '../payload/jsonrpc/list-tool-servers.js';
import { formatProblems, formatResults, formatSummary } from '../test-cases/format-report.js';
import { type CasesFile, loadCases } from '../test-cases/load-cases.js';
import { type CaseResult, runCases } from '../test-cases/run-cases.js';

const USAGE = `usage: callguard test [CASES...] --config FILE [--watch]

Decides each case of the CASES files (YAML; default: the config's name with .test.yaml, e.g.
callguard.test.yaml next to callguard.yaml) offline, as the server would, and compares.
  --watch   run again whenever the config, a function schema, a cases file or a body file changes
exit: 0 every case passed, 1 a case failed, 2 usage, or an invalid config or cases file
`;

/** `callguard test`: table-driven cases for a config's rules and schemas (see src/test-cases/cases.schema.json). */
export async function runTest(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (err) {
    process.stderr.write(`callguard test: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const configFile = parsed.values.config;
  if (configFile === undefined) {
    process.stderr.write(`callguard test: missing --config FILE\n${USAGE}`);
    return 2;
  }
  const casesFiles = parsed.positionals.length > 0 ? parsed.positionals : [defaultCasesFile(configFile)];
  const run = (): Promise<Run> =>
    runOnce(
      resolve(configFile),
      casesFiles.map((f) => resolve(f)),
    );
  return parsed.values.watch === true ? watchAndRun(run) : (await run()).code;
}

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { config: { type: 'string', short: 'c' }, watch: { type: 'boolean', short: 'w' }, help: { type: 'boolean', short: 'h' } },
  });
}

/** `callguard.yaml` → `callguard.test.yaml`, next to it. */
function defaultCasesFile(configFile: string): string {
  return join(dirname(configFile), `${basename(configFile).replace(/\.(ya?ml|json)$/, '')}.test.yaml`);
}

interface Run {
  readonly code: number;
  /** Files the run read: a change to one of them is worth another run. */
  readonly files: readonly string[];
}

async function runOnce(configFile: string, casesFiles: readonly string[]): Promise<Run> {
  const watched = [configFile, ...casesFiles];
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(configFile);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(formatProblems('invalid configuration', err.problems));
    return { code: 2, files: watched };
  }
  for (const fn of config.functions) {
    if (fn.input !== undefined) watched.push(fn.input.schema);
    for (const tool of fn.mcp?.tools ?? []) if (tool.schema !== undefined) watched.push(tool.schema);
  }
  // Cases of tools whose schema the server lists need that listing: without it they cannot be judged.
  const listings = await listToolServers(config);
  const { inputs, problems } = compileInputs(config, listings);
  problems.unshift(...unlistedProblems(config, listings, { all: true }));
  if (problems.length > 0) {
    process.stderr.write(formatProblems('invalid configuration', problems));
    return { code: 2, files: watched };
  }
  const startMs = Date.now();
  const files: CasesFile[] = [];
  const invalid: ConfigProblem[] = [];
  for (const file of casesFiles) {
    const loaded = loadCases(file, config, startMs);
    if (loaded.ok) files.push(loaded.value);
    else invalid.push(...loaded.problems);
  }
  for (const file of files) for (const c of file.cases) if (c.request.bodyFile !== undefined) watched.push(c.request.bodyFile);
  if (invalid.length > 0) {
    process.stderr.write(formatProblems('invalid test cases', invalid));
    return { code: 2, files: watched };
  }
  const all: CaseResult[] = [];
  for (const file of files) {
    const results = await runCases(config, inputs, file);
    process.stdout.write(formatResults(file.file, results));
    all.push(...results);
  }
  process.stdout.write(formatSummary(all));
  return { code: all.some((r) => r.mismatches.length > 0) ? 1 : 0, files: watched };
}

/**
 * Runs, then again after each change to a file the last run read, until SIGINT or SIGTERM (the last run's
 * exit code). Directories are watched, not files: an editor that saves by renaming replaces the file.
 */
async function watchAndRun(run: () => Promise<Run>): Promise<number> {
  let last = await run();
  return new Promise((done) => {
    let watchers: FSWatcher[] = [];
    let timer: NodeJS.Timeout | undefined;
    let running = false;
    let again = false;
    const arm = (files: readonly string[]): void => {
      for (const w of watchers) w.close();
      const wanted = new Set(files);
      watchers = [...new Set(files.map((f) => dirname(f)))].map((dir) =>
        watch(dir, (_event, name) => {
          if (name !== null && wanted.has(join(dir, name.toString()))) schedule();
        }),
      );
      process.stdout.write(`watching ${wanted.size} files for changes (Ctrl-C to stop)\n`);
    };
    const rerun = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      process.stdout.write('\nchanged: running again\n');
      try {
        last = await run();
      } catch (err) {
        // Not a problem of the files (those are listed): say it, keep watching the same files.
        process.stderr.write(`callguard test: ${err instanceof Error ? err.message : String(err)}\n`);
        last = { code: 1, files: last.files };
      }
      running = false;
      arm(last.files);
      if (again) {
        again = false;
        schedule();
      }
    };
    // One run for a burst of events (an editor's save is several).
    const schedule = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => void rerun(), 100);
    };
    const stop = (): void => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
      done(last.code);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    arm(last.files);
  });
}
