import { describe, expect, it } from 'vitest';
import type { Config, FunctionConfig } from '../../../src/config/types.js';
import { toCallguardFacts } from '../../../src/envoy-lint/callguard-facts.js';

const SPIFFE = { spiffeIds: ['spiffe://example.org/ns/default/sa/agent'] };
const JWT = { issuer: 'corp', groups: ['agents'] };

/** Only the fields toCallguardFacts reads; the rest of a function does not change the facts. */
const fn = (fields: Partial<FunctionConfig>): FunctionConfig =>
  ({ name: 'f', allow: [JWT], requireMtls: false, match: { method: 'POST', path: '/f' }, ...fields }) as unknown as FunctionConfig;
const config = (...functions: FunctionConfig[]): Config => ({ functions, identity: {} }) as unknown as Config;

describe('toCallguardFacts (review finding: MCP endpoints were not counted)', () => {
  it.each([
    { name: 'a JSON function', function: fn({ input: {} as never }), facts: { hasSchema: true, needsClientCertificate: false } },
    { name: 'no body', function: fn({}), facts: { hasSchema: false, needsClientCertificate: false } },
    {
      name: 'an MCP endpoint (its messages are bodies)',
      function: fn({ mcp: { methods: [], tools: [{ allow: [JWT] }] } as never }),
      facts: { hasSchema: true, needsClientCertificate: false },
    },
    {
      name: 'an MCP tool allowing a SPIFFE peer',
      function: fn({ mcp: { methods: [], tools: [{ allow: [SPIFFE] }] } as never }),
      facts: { hasSchema: true, needsClientCertificate: true },
    },
    { name: 'senderConstrained: either', function: fn({ senderConstrained: 'either' }), facts: { hasSchema: false, needsClientCertificate: true } },
  ])('$name', ({ function: f, facts }) => {
    const [found] = toCallguardFacts(config(f)).functions;
    expect({ hasSchema: found?.hasSchema, needsClientCertificate: found?.needsClientCertificate }).toEqual(facts);
  });

  it('an MCP endpoint makes content-type and content-encoding headers callguard reads', () => {
    const headers = toCallguardFacts(config(fn({ mcp: { methods: [], tools: [] } as never }))).readHeaders.map((h) => h.header);
    expect(headers).toEqual(expect.arrayContaining(['content-type', 'content-encoding']));
  });
});
