import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { rotatedFiles } from '../decision-log/log-sink.js';
import { createChainVerifier, splitLines } from '../decision-log/verify-chain.js';

const USAGE =
  "usage: callguard verify-log [--key PUBLIC_KEY.pem] (FILE... | --rotated FILE)\n  FILE...: rotated files oldest first, the current file last; --rotated FILE: FILE's numbered rotated files, then FILE\n";

/**
 * `callguard verify-log FILE...`: checks the decision log's hash chain across the files given, in
 * order, and with `--key` every checkpoint's signature. Exit 0 when intact; 1 naming the first
 * missing, altered, reordered or truncated line; 2 on a usage error.
 */
export async function runVerifyLog(args: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  const { files, keyFile } = parsed;
  let key: KeyObject | undefined;
  if (keyFile !== undefined) {
    try {
      key = createPublicKey(readFileSync(keyFile));
    } catch (err) {
      process.stderr.write(`${keyFile}: cannot load the key: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
  }
  const verifier = createChainVerifier(key === undefined ? {} : { key });
  for (const file of files) {
    let text: Buffer;
    try {
      text = readFileSync(file);
    } catch (err) {
      process.stderr.write(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
      return 1;
    }
    let line = 0;
    for (const bytes of splitLines(text)) verifier.push({ file, line: ++line }, bytes);
  }
  const report = verifier.end();
  for (const note of report.notes) process.stderr.write(`note: ${note}\n`);
  if (report.problem !== undefined) {
    const where = report.problem.file === '' ? '' : `${report.problem.file}:${report.problem.line}: `;
    process.stdout.write(`${where}${report.problem.problem}\n`);
    return 1;
  }
  const span = report.firstSeq === null ? 'no chained lines' : `seq ${report.firstSeq}–${report.lastSeq}`;
  const signed =
    key === undefined
      ? `${report.checkpoints} checkpoints (signatures not checked: give --key)`
      : `${report.verifiedCheckpoints} checkpoints verified, ${report.unsigned} lines after the last one`;
  process.stdout.write(`ok: ${files.length} file(s), ${report.lines} lines (${span}), ${signed}\n`);
  return 0;
}

function parse(args: string[]) {
  const { values, positionals } = parseArgs({ args, options: { key: { type: 'string' }, rotated: { type: 'string' } }, allowPositionals: true, strict: true });
  if (values.rotated !== undefined) {
    if (positionals.length > 0) throw new TypeError('verify-log: give FILE... or --rotated FILE, not both');
    return { files: rotatedFiles(values.rotated), keyFile: values.key };
  }
  if (positionals.length === 0) throw new TypeError('verify-log: no file given');
  return { files: positionals, keyFile: values.key };
}
