/**
 * The Envoy through-path table in the shape OPA-Envoy publishes (openpolicyagent.org/docs/envoy/performance):
 * latency percentiles for "App Only", "App and Envoy" and "App, Envoy and <authz>", plus the difference the
 * authorization hop adds on top of Envoy alone.
 */
import type { EnvoyPathResult } from './envoy-path.js';
import { WARM_UP_SECONDS } from './https-load.js';

const cell = (value: number | undefined): string => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(3));

/** Cases that did not hold the rate (achieved < 95 %) or got any non-2xx answer, described. */
export function overloadedCases(envoy: EnvoyPathResult): string[] {
  const found: string[] = [];
  for (const c of envoy.cases) {
    const why = [
      ...(c.non2xx > 0 ? [`had ${c.non2xx} non-2xx answers`] : []),
      ...(c.achievedRps < 0.95 * envoy.rate ? [`reached ${c.achievedRps} req/s`] : []),
    ];
    if (why.length > 0) found.push(`"${c.label}" ${why.join(' and ')}`);
  }
  return found;
}

export function envoyMarkdown(envoy: EnvoyPathResult | { readonly skipped: string }): string[] {
  const lines = ['## Through Envoy (HTTPS, vegeta)', ''];
  if ('skipped' in envoy) return [...lines, `Skipped: ${envoy.skipped}`];
  lines.push(
    `${envoy.rate} req/s for ${envoy.seconds} s per case after ${WARM_UP_SECONDS} s of warm-up at the same rate, open-loop constant rate over HTTP/1.1 keep-alive connections (the example function speaks HTTP/1.1 only), POST ${envoy.path} with a bearer token and a ${envoy.bodyBytes}-byte JSON body; ${envoy.envoyVersion}.`,
    '',
    '| case | achieved req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | non-2xx | Envoy→callguard call p50/p90/p99 ms | callguard decision p50/p90/p99 µs |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  const triple = (t: { p50: number; p90: number; p99: number } | undefined) => (t === undefined ? '' : `${t.p50} / ${t.p90} / ${t.p99}`);
  for (const c of envoy.cases) {
    const l = c.latencyMs;
    lines.push(
      `| ${c.label} | ${c.achievedRps} | ${cell(l.p50)} | ${cell(l.p90)} | ${cell(l.p99)} | ${cell(l.p999)} | ${c.non2xx} | ${triple(c.envoyCheckMs)} | ${triple(c.decisionUs)} |`,
    );
  }
  const added = envoy.addedByCallguardMs;
  const overloaded = overloadedCases(envoy);
  if (overloaded.length > 0) {
    lines.push(
      '',
      `**Overloaded run?** ${overloaded.join('; ')}. Every case is expected to hold the rate with only 2xx answers; when one does not (a 503 is what Envoy answers when a Check exceeds its 200 ms timeout), the machine was likely not keeping up, and the latencies above then measure its queueing rather than the cost of a hop. Compare with a run that has no such line.`,
    );
  }
  lines.push(
    '',
    'End-to-end latency from vegeta; "App Only" presents Envoy\'s client certificate (the function accepts no other caller); "Envoy→callguard call" is Envoy\'s own `cluster.callguard.upstream_rq_time` (cumulative since that Envoy started, warm-up included; Envoy\'s histograms keep 2 significant digits); "callguard decision" is `latencyUs` from callguard\'s decision log.',
  );
  lines.push(
    '',
    `Added by callguard (App, Envoy and callguard − App and Envoy): p50 ${cell(added.p50)} ms, p90 ${cell(added.p90)} ms, p99 ${cell(added.p99)} ms.`,
  );
  return lines;
}
