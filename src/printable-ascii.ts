/**
 * Text a peer controls (an MCP server's error message, a name in a schema it listed) made safe for a log
 * line or a terminal: printable ASCII only (anything else, line breaks and escape sequences included,
 * becomes `?`), at most `max` characters.
 */
export function printableAscii(text: string, max = 200): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, max);
}
