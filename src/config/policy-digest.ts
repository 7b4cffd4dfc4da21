import { createHash } from 'node:crypto';
import type { CompiledInput } from '../payload/compile-input.js';
import type { McpEndpoint } from '../payload/jsonrpc/compile-mcp-endpoint.js';

/**
 * What decided a call, as a decision line names it (`config`): the config file's digest and, in
 * function order, the SHA-256 of each schema file's bytes as compiled; 16 base64url characters
 * (96 bits). A reload that changes the file or any schema changes it; one that changes nothing keeps it.
 */
export function policyDigest(
  configDigest: string,
  inputs: ReadonlyMap<string, CompiledInput>,
  mcpEndpoints: ReadonlyMap<string, McpEndpoint> = new Map(),
): string {
  const h = createHash('sha256').update(configDigest);
  for (const [name, input] of inputs) h.update(`\n${name}\n${input.schemaDigest}`);
  // MCP tool schemas, after all input schemas: a config without MCP endpoints keeps its digest.
  for (const [name, endpoint] of mcpEndpoints) for (const [tool, digest] of endpoint.schemaDigests) h.update(`\n${name}\n${tool}\n${digest}`);
  return h.digest('base64url').slice(0, 16);
}
