import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildCallguard } from '../../src/build-callguard.js';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';
import { type Fixture, startFixture } from '../helpers/callguard-fixture.js';
import { summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';
import { createMemoryDestination } from '../helpers/memory-destination.js';
import { createTestCerts } from '../helpers/test-certs.js';

// Issue 12: the suite's dynamicRef.json group 20 loaded, then every call to its function failed with 500
// ERR_INTERNAL "Maximum call stack size exceeded" and a decision line saying `function: null`; at load only
// the first ajv error of a schema was reported. Now: what can be proved at load is refused there, naming
// the file and the JSON pointer, every problem of every schema at once; a schema that still recurses
// without end (through an `$id` reference) denies each call with ERR_BODY_SCHEMA_FAULT naming the function.
const BILLING = 'spiffe://example.org/ns/default/sa/billing';
const DYNAMIC_REF_GROUP_20 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://test.json-schema.org/dynamic-ref-avoids-root-of-each-schema/base',
  $ref: 'first#/$defs/stuff',
  $defs: {
    first: { $id: 'first', $defs: { stuff: { $ref: 'second#/$defs/stuff' }, length: { maxLength: 1 } } },
    second: { $id: 'second', $defs: { stuff: { $ref: 'third#/$defs/stuff' }, length: { $dynamicAnchor: 'length', maxLength: 2 } } },
    third: { $id: 'third', $defs: { stuff: { $dynamicRef: '#length' }, length: { $dynamicAnchor: 'length', maxLength: 3 } } },
  },
};
// A cycle through an `$id` reference: not followed at load, ajv compiles it, every `x` overflows the stack.
const ID_CYCLE = {
  type: 'object',
  properties: { x: { $ref: 'https://loop.test/a' } },
  $defs: { a: { $id: 'https://loop.test/a', type: 'integer', allOf: [{ $ref: 'https://loop.test/a' }] } },
};
const LOCAL_CYCLE = { type: 'object', properties: { x: { $ref: '#/$defs/a' } }, $defs: { a: { type: 'integer', allOf: [{ $ref: '#/$defs/a' }] } } };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'callguard-recursion-'));
  writeFileSync(join(dir, 'dynamic.json'), JSON.stringify(DYNAMIC_REF_GROUP_20));
  writeFileSync(join(dir, 'local-cycle.json'), JSON.stringify(LOCAL_CYCLE));
  writeFileSync(join(dir, 'id-cycle.json'), JSON.stringify(ID_CYCLE));
  writeFileSync(
    join(dir, 'typo.json'),
    JSON.stringify({ type: 'object', properties: { a: { type: 'string', maxLenght: 3 }, b: { type: 'string', format: 'iri' } } }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('regression: schemas that recurse without end, and every schema problem at once', () => {
  it('refuses at load every problem of every schema, each naming its file and JSON pointer', async () => {
    const fn = (name: string, schema: string) => ({ name, allow: [{ spiffeIds: [BILLING] }], input: { schema } });
    const yaml = stringify({
      identity: { spiffe: { trustDomains: ['example.org'] } },
      functions: [fn('a.dynamic', 'dynamic.json'), fn('b.cycle', 'local-cycle.json'), fn('c.typo', 'typo.json')],
    });
    const problems = await buildCallguard(parseConfig(yaml, join(dir, 'callguard.yaml')), { decisionLog: createMemoryDestination().stream }).then(
      () => [],
      (err: unknown) => (err instanceof ConfigError ? err.problems : Promise.reject(err)),
    );
    expect(problems.map((p) => [p.file.replace(`${dir}/`, ''), p.path, p.message.replace(/ \(.*$|: .*$/s, '')])).toEqual([
      ['dynamic.json', '/functions/0/input/schema', 'schema /$defs/second/$defs/length/$dynamicAnchor'],
      ['dynamic.json', '/functions/0/input/schema', 'schema /$defs/third/$defs/stuff/$dynamicRef'],
      ['dynamic.json', '/functions/0/input/schema', 'schema /$defs/third/$defs/length/$dynamicAnchor'],
      ['local-cycle.json', '/functions/1/input/schema', 'schema /$defs/a'],
      ['typo.json', '/functions/2/input/schema', 'schema /properties/a/maxLenght'],
      ['typo.json', '/functions/2/input/schema', 'schema /properties/b/format'],
    ]);
    expect(problems[3]?.message).toMatch(/reference cycle that consumes no data \(\/\$defs\/a → \/\$defs\/a\/allOf\/0 → \/\$defs\/a\)/);
  });

  describe('a cycle only ajv sees: each call denied with ERR_BODY_SCHEMA_FAULT, naming the function', () => {
    let issuer: TestIssuer;
    let fx: Fixture;
    const certs = createTestCerts();
    let pem = '';
    beforeAll(async () => {
      issuer = await createTestIssuer();
      pem = certs.leaf('billing', `URI:${BILLING}`).pem;
      fx = await startFixture(issuer.jwksUrl, issuer.url, undefined, (config) => {
        (config['functions'] as unknown[]).push({ name: 'loop.run', allow: [{ spiffeIds: [BILLING] }], input: { schema: join(dir, 'id-cycle.json') } });
      });
    });
    afterAll(async () => {
      await fx.close();
      await issuer.close();
      certs.cleanup();
    });
    const call = async (body: string) =>
      summarize(
        await fx.client.check({
          path: '/loop',
          headers: { 'content-type': 'application/json' },
          body,
          peer: { principal: BILLING, pem },
          contextExtensions: { function: 'loop.run' },
        }),
      );

    it('allows a body that does not reach the cycle', async () => {
      expect((await call('{}')).allow).toBe(true);
    });

    it('denies a body that does, 500 ERR_BODY_SCHEMA_FAULT, the decision line naming the function', async () => {
      const s = await call('{"x":1}');
      expect(s.allow ? 'allow' : s.problem.code).toBe('ERR_BODY_SCHEMA_FAULT');
      if (!s.allow) expect([s.status, s.problem.detail]).toEqual([500, "The function's schema could not be evaluated on this body"]);
      const line = fx.log.lines.at(-1) as Record<string, unknown>;
      expect(line).toMatchObject({ outcome: 'deny', code: 'ERR_BODY_SCHEMA_FAULT', function: 'loop.run' });
      expect(line['internal']).toMatch(/id-cycle\.json: Maximum call stack size exceeded/);
    });
  });
});
