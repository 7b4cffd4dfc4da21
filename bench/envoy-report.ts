/**
 * The Envoy through-path table in the shape OPA-Envoy publishes (openpolicyagent.org/docs/envoy/performance):
 * latency percentiles for "App Only", "App and Envoy" and "App, Envoy and <authz>", plus the difference the
 * authorization hop adds on top of Envoy alone.
 */
import type { EnvoyPathResult } from './envoy-path.js';

const cell = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(3));

export function envoyMarkdown(envoy: EnvoyPathResult | { readonly skipped: string }): string[] {
  const lines = ['## Through Envoy (HTTPS, h2load)', ''];
  if ('skipped' in envoy) return [...lines, `Skipped: ${envoy.skipped}`];
  lines.push(
    `${envoy.rate} req/s for ${envoy.seconds} s per case, ${envoy.clients} HTTP/1.1 connections (h2load --h1; the example function speaks HTTP/1.1 only), POST ${envoy.path} with a bearer token and a ${envoy.bodyBytes}-byte JSON body; ${envoy.envoyVersion}.`,
    '',
    '| case | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | non-2xx |',
    '|---|---|---|---|---|---|---|',
  );
  for (const c of envoy.cases) {
    lines.push(`| ${c.label} | ${c.achievedRps} | ${cell(c.latencyMs.p50)} | ${cell(c.latencyMs.p90)} | ${cell(c.latencyMs.p99)} | ${cell(c.latencyMs.p999)} | ${c.non2xx} |`);
  }
  const added = envoy.addedByCallguardMs;
  lines.push('', `Added by callguard (App, Envoy and callguard − App and Envoy): p50 ${cell(added.p50)} ms, p90 ${cell(added.p90)} ms, p99 ${cell(added.p99)} ms.`);
  return lines;
}
