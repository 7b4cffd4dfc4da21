import type { FunctionConfig, McpConfig } from '../../src/config/types.js';

/** A loaded `weather-mcp` function (POST /mcp, agents of issuer `corp`) with this `mcp` block; methods default as the schema does. */
export function mcpFunctionConfig(mcp: Pick<McpConfig, 'tools'> & Partial<McpConfig>): FunctionConfig & { mcp: McpConfig } {
  return {
    name: 'weather-mcp',
    match: { method: 'POST', path: '/mcp', logParams: [] },
    requireMtls: false,
    mode: 'enforce',
    singleUse: false,
    allow: [{ issuer: 'corp', groups: ['agents'] }],
    mcp: { methods: ['initialize', 'notifications/initialized', 'tools/list'], ...mcp },
  };
}
