import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { type CallguardFacts, toCallguardFacts } from '../envoy-lint/callguard-facts.js';
import { type FindingsFormat, formatJson, formatSarif, formatText } from '../envoy-lint/format-findings.js';
import { createLineOfPath } from '../envoy-lint/line-of-path.js';
import { lintEnvoy } from '../envoy-lint/lint-envoy.js';
import { readBootstrap } from '../envoy-lint/read-bootstrap.js';
import { ConfigError } from '../errors.js';

const USAGE = `usage: callguard lint-envoy ENVOY.yaml [--callguard CONFIG] [--format text|json|sarif]

Static analysis of an Envoy v3 bootstrap (YAML or JSON) for holes around callguard: plaintext,
weak TLS, ext_authz missing, disabled, misordered or failing open, unverified upstreams, path
normalization off, the admin interface off loopback. With --callguard, also checks it against
callguard's functions (mTLS, bodies, headers, every function reachable, every named function known).

exit: 0 no error-level finding, 1 at least one, 2 usage, unreadable or invalid file
`;

const FORMATS = new Set<FindingsFormat>(['text', 'json', 'sarif']);

/** `callguard lint-envoy ENVOY.yaml [--callguard CONFIG] [--format text|json|sarif]`. */
export async function runLintEnvoy(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const { file, callguardFile, format } = parsed;
  let findings: ReturnType<typeof lintEnvoy>;
  let text: string;
  try {
    const callguard: CallguardFacts | undefined = callguardFile !== undefined ? toCallguardFacts(loadConfig(callguardFile)) : undefined;
    text = readEnvoyFile(file);
    findings = lintEnvoy(readBootstrap(text, file), callguard);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  const lineOf = createLineOfPath(text);
  const write = { text: formatText, json: formatJson, sarif: formatSarif }[format];
  process.stdout.write(write(file, findings, lineOf));
  return findings.some((f) => f.severity === 'error') ? 1 : 0;
}

function parseOptions(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    options: { callguard: { type: 'string' }, format: { type: 'string', default: 'text' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return 'help' as const;
  if (positionals.length !== 1) throw new Error(`expected one Envoy config file, got ${positionals.length}`);
  if (!FORMATS.has(values.format as FindingsFormat)) throw new Error(`unknown --format ${values.format} (text, json, sarif)`);
  return { file: positionals[0] as string, callguardFile: values.callguard, format: values.format as FindingsFormat };
}

function readEnvoyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
}
