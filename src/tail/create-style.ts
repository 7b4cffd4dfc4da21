/** Terminal styling: SGR colours when on, the text unchanged when off. */
export interface Style {
  readonly green: (text: string) => string;
  readonly red: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
}

const sgr = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const plain = (text: string) => text;

export function createStyle(color: boolean): Style {
  if (!color) return { green: plain, red: plain, yellow: plain, bold: plain, dim: plain };
  return { green: sgr(32, 39), red: sgr(31, 39), yellow: sgr(33, 39), bold: sgr(1, 22), dim: sgr(2, 22) };
}

/**
 * Colour on standard output: only for a terminal, and never with `--no-color` or a non-empty
 * `NO_COLOR` (https://no-color.org).
 */
export function wantsColor(isTTY: boolean | undefined, noColorFlag: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTTY === true && !noColorFlag && (env['NO_COLOR'] ?? '') === '';
}

/**
 * A value from the log made safe to print: control characters (an escape sequence planted in a
 * subject or a request id would otherwise drive the operator's terminal) shown as `\u001b`.
 */
export function printable(text: string): string {
  let safe = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    safe += code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `\\u${code.toString(16).padStart(4, '0')}` : char;
  }
  return safe;
}
