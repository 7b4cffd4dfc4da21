import type { ChainReport, createChainVerifier, LinePlace } from '../decision-log/verify-chain.js';
import { printable, type Style } from './create-style.js';
import { formatLogLine } from './format-log-line.js';
import { type LogLine, parseLogLine } from './parse-log-line.js';

type ChainVerifier = ReturnType<typeof createChainVerifier>;

export interface TailPipelineOptions {
  readonly filter: (line: LogLine) => boolean;
  /** Print the lines that pass as they are (from their `{`), instead of the readable form. */
  readonly json: boolean;
  /** Styling of standard output (plain unless it is a terminal). */
  readonly style: Style;
  /** Styling of standard error. */
  readonly errStyle: Style;
  /** `--verify`: every line read goes through it, shown or not. */
  readonly verifier?: ChainVerifier;
  /** Standard output: lines that pass the filter. */
  readonly out: (text: string) => void;
  /** Standard error: unparseable lines, chain warnings and notes. */
  readonly err: (text: string) => void;
}

export interface TailSummary {
  readonly shown: number;
  readonly unparseable: number;
  /** With a verifier: its report on every line pushed. */
  readonly chain?: ChainReport;
}

/**
 * Where every line read goes: parsed, checked against the chain, filtered, printed. A line that is
 * not a log line is never dropped: it goes to `err` marked `unparseable`, and is counted.
 */
export function createTailPipeline(options: TailPipelineOptions) {
  const { filter, json, style, errStyle, verifier, out, err } = options;
  let shown = 0;
  let unparseable = 0;
  let notesShown = 0;
  const warned = new Set<string>();

  /** New notes, and a problem not yet warned about, as soon as the verifier knows them. */
  const reportChain = (): void => {
    if (verifier === undefined) return;
    const report = verifier.end();
    for (; notesShown < report.notes.length; notesShown++) err(`note: ${report.notes[notesShown]}\n`);
    const problem = report.problem;
    if (problem === undefined) return;
    const key = `${problem.file}:${problem.line}`;
    if (warned.has(key)) return;
    warned.add(key);
    err(`${errStyle.red(errStyle.bold(`WARNING: decision log chain broken at ${key}: ${problem.problem}`))}\n`);
  };

  return {
    /**
     * One line as read, with its newline (without, when it ended a file). `interleaved`: the source
     * mixes in other output (`docker compose logs` carries the operational log too), so only lines
     * with chain fields are verified.
     */
    push(place: LinePlace, bytes: Buffer, interleaved = false): void {
      const parsed = parseLogLine(bytes);
      if (verifier !== undefined && (!interleaved || (parsed.ok && 'seq' in parsed.line.fields))) {
        verifier.push(place, parsed.body);
        reportChain();
      }
      if (!parsed.ok) {
        unparseable++;
        const shown = parsed.text.length > 500 ? `${parsed.text.slice(0, 500)}… (${parsed.text.length} characters)` : parsed.text;
        err(`${errStyle.yellow(`unparseable (${parsed.why})`)} ${place.file}:${place.line}: ${printable(shown)}\n`);
        return;
      }
      if (!filter(parsed.line)) return;
      shown++;
      if (!json) out(`${formatLogLine(parsed.line, style)}\n`);
      else {
        const body = parsed.body.toString('utf8');
        out(body.endsWith('\n') ? body : `${body}\n`);
      }
    },
    end(): TailSummary {
      const chain = verifier?.end();
      // A warning is printed as soon as a line does not link; a later gap line may account for it (a failed write).
      if (chain !== undefined && chain.problem === undefined && warned.size > 0) {
        reportChain();
        err('note: every chain warning above was accounted for by a later gap or start line (a failed write, not tampering)\n');
      }
      return { shown, unparseable, ...(chain !== undefined ? { chain } : {}) };
    },
  };
}
