import { createHash } from 'node:crypto';
import type { PayloadInspector } from '../payload/payload-inspector.js';

/**
 * What decided a call, as a decision line names it (`config`): the config file's digest and, in
 * function order, the SHA-256 of the files each function's payload inspector was compiled from (its schema, a
 * descriptor set, an MCP endpoint's tool names and schemas); 16 base64url characters
 * (96 bits). A reload that changes the file or any schema changes it; one that changes nothing keeps it.
 */
export function policyDigest(configDigest: string, inputs: ReadonlyMap<string, Pick<PayloadInspector, 'digest'>>): string {
  const h = createHash('sha256').update(configDigest);
  for (const [name, input] of inputs) h.update(`\n${name}\n${input.digest}`);
  return h.digest('base64url').slice(0, 16);
}
