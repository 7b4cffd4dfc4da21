import { describe, expect, it } from 'vitest';
import type { Decision } from '../../../src/decision.js';
import { compareDecision, type DecisionFacts, decisionFacts } from '../../../src/test-cases/compare-decision.js';
import type { CaseExpectation } from '../../../src/test-cases/load-cases.js';

const allowed: DecisionFacts = {
  outcome: 'allow',
  status: 200,
  violations: [],
  upstreamHeaders: { 'x-callguard-subject': 'alice', 'x-callguard-function': 'orders.create' },
  removedHeaders: ['authorization', 'x-api-key'],
};
const invalidBody: DecisionFacts = {
  outcome: 'deny',
  status: 400,
  code: 'ERR_BODY_SCHEMA',
  violations: [
    { pointer: '/sku', keyword: 'pattern' },
    { pointer: '/quantity', keyword: 'minimum' },
  ],
  upstreamHeaders: {},
  removedHeaders: [],
};

/** Every expectation type, met and not met: the mismatch names the field, what was expected and what came. */
const TABLE: { name: string; expect: CaseExpectation; got: DecisionFacts; mismatches: { field: string; expected: string; got: string }[] }[] = [
  { name: 'outcome met', expect: { outcome: 'allow' }, got: allowed, mismatches: [] },
  {
    name: 'outcome not met: the unexpected code is shown with it',
    expect: { outcome: 'allow' },
    got: invalidBody,
    mismatches: [
      { field: 'outcome', expected: 'allow', got: 'deny' },
      { field: 'code', expected: '(none)', got: 'ERR_BODY_SCHEMA' },
    ],
  },
  { name: 'status not met', expect: { outcome: 'deny', status: 403 }, got: invalidBody, mismatches: [{ field: 'status', expected: '403', got: '400' }] },
  {
    name: 'code not met',
    expect: { outcome: 'deny', code: 'ERR_NOT_PERMITTED' },
    got: invalidBody,
    mismatches: [{ field: 'code', expected: 'ERR_NOT_PERMITTED', got: 'ERR_BODY_SCHEMA' }],
  },
  {
    name: 'code expected, allowed instead',
    expect: { outcome: 'deny', code: 'ERR_NOT_PERMITTED' },
    got: allowed,
    mismatches: [
      { field: 'outcome', expected: 'deny', got: 'allow' },
      { field: 'code', expected: 'ERR_NOT_PERMITTED', got: '(none)' },
    ],
  },
  {
    name: 'violations in another order',
    expect: {
      outcome: 'deny',
      violations: [
        { pointer: '/quantity', keyword: 'minimum' },
        { pointer: '/sku', keyword: 'pattern' },
      ],
    },
    got: invalidBody,
    mismatches: [],
  },
  {
    name: 'violations by pointer only',
    expect: { outcome: 'deny', violations: [{ pointer: '/quantity' }, { pointer: '/sku' }] },
    got: invalidBody,
    mismatches: [],
  },
  {
    name: 'violations: one missing',
    expect: { outcome: 'deny', violations: [{ pointer: '/sku', keyword: 'pattern' }] },
    got: invalidBody,
    mismatches: [{ field: 'violations', expected: '/sku pattern', got: '/sku pattern, /quantity minimum' }],
  },
  {
    name: 'violations: another keyword',
    expect: {
      outcome: 'deny',
      violations: [
        { pointer: '/sku', keyword: 'maxLength' },
        { pointer: '/quantity', keyword: 'minimum' },
      ],
    },
    got: invalidBody,
    mismatches: [{ field: 'violations', expected: '/sku maxLength, /quantity minimum', got: '/sku pattern, /quantity minimum' }],
  },
  {
    name: 'violations: none expected',
    expect: { outcome: 'deny', violations: [] },
    got: invalidBody,
    mismatches: [{ field: 'violations', expected: 'none', got: '/sku pattern, /quantity minimum' }],
  },
  { name: 'upstream header met', expect: { outcome: 'allow', upstreamHeaders: { 'X-Callguard-Subject': 'alice' } }, got: allowed, mismatches: [] },
  {
    name: 'upstream header with another value',
    expect: { outcome: 'allow', upstreamHeaders: { 'x-callguard-subject': 'bob' } },
    got: allowed,
    mismatches: [{ field: 'upstreamHeaders.x-callguard-subject', expected: 'bob', got: 'alice' }],
  },
  {
    name: 'upstream header expected, not set',
    expect: { outcome: 'allow', upstreamHeaders: { 'x-callguard-spiffe-id': 'spiffe://example.org/a' } },
    got: allowed,
    mismatches: [{ field: 'upstreamHeaders.x-callguard-spiffe-id', expected: 'spiffe://example.org/a', got: '(not set)' }],
  },
  {
    name: 'upstream header expected absent (null), set',
    expect: { outcome: 'allow', upstreamHeaders: { 'x-callguard-subject': null } },
    got: allowed,
    mismatches: [{ field: 'upstreamHeaders.x-callguard-subject', expected: '(not set)', got: 'alice' }],
  },
  { name: 'removed headers met', expect: { outcome: 'allow', removedHeaders: ['Authorization'] }, got: allowed, mismatches: [] },
  {
    name: 'removed header not removed',
    expect: { outcome: 'allow', removedHeaders: ['dpop'] },
    got: allowed,
    mismatches: [{ field: 'removedHeaders', expected: 'dpop removed', got: 'removed: authorization, x-api-key' }],
  },
];

describe('compareDecision', () => {
  it.each(TABLE)('$name', ({ expect: expectation, got, mismatches }) => {
    expect(compareDecision(expectation, got)).toEqual(mismatches);
  });
});

describe('decisionFacts', () => {
  const deny: Decision = { allow: false, decisionId: 'd', code: 'ERR_NOT_PERMITTED', status: 403, detail: 'x', violations: [] };
  it('a denial is deny', () => {
    expect(decisionFacts(deny)).toMatchObject({ outcome: 'deny', status: 403, code: 'ERR_NOT_PERMITTED', upstreamHeaders: {} });
  });
  it("a shadow function's denial is would-deny, with the denial's status and code and the headers it goes upstream with", () => {
    const shadow = {
      ...deny,
      shadow: { setHeaders: { 'x-callguard-would-deny': 'ERR_NOT_PERMITTED' }, removeHeaders: ['x-callguard-subject'], removeQueryParameters: [] },
    };
    expect(decisionFacts(shadow)).toEqual({
      outcome: 'would-deny',
      status: 403,
      code: 'ERR_NOT_PERMITTED',
      violations: [],
      upstreamHeaders: { 'x-callguard-would-deny': 'ERR_NOT_PERMITTED' },
      removedHeaders: ['x-callguard-subject'],
    });
  });
});
