import { describe, expect, it } from 'vitest';
import type { AllowRule, FunctionConfig } from '../../../src/config/types.js';
import { compilePolicy } from '../../../src/functions/compile-policy.js';
import type { Caller, CredentialKind } from '../../../src/principal.js';
import { apiKeyPrincipal, jwtPrincipal, mtlsPrincipal, samlPrincipal } from '../../helpers/principals.js';

const SOURCES = new Map<string, CredentialKind>([
  ['corp', 'jwt'],
  ['other', 'jwt'],
  ['github', 'jwt'],
  ['k8s', 'jwt'],
  ['adfs', 'saml'],
  ['apiKeys', 'apiKey'],
]);
const policy = (allow: AllowRule[], name = 'f') =>
  compilePolicy({ name, requireMtls: false, mode: 'enforce', singleUse: false, allow } satisfies FunctionConfig, SOURCES);
const jwt = (source: string, subject: string, groups: string[] = [], claims: Record<string, unknown> = {}): Caller => ({
  credential: jwtPrincipal(source, subject, groups, claims),
});

describe('compilePolicy: subjects, groups and SPIFFE IDs (default deny)', () => {
  const p = policy([
    { issuer: 'corp', groups: ['writers'] },
    { issuer: 'corp', subjects: ['svc-ci'] },
    { spiffeIds: ['spiffe://example.org/ns/default/sa/billing'] },
  ]);
  it.each([
    { name: 'group match', caller: jwt('corp', 'alice', ['readers', 'writers']), want: true },
    { name: 'subject match', caller: jwt('corp', 'svc-ci'), want: true },
    { name: 'no group', caller: jwt('corp', 'bob', ['readers']), want: false },
    { name: 'other source, same group', caller: jwt('other', 'alice', ['writers']), want: false },
    { name: 'an API key whose owner has the subject', caller: { credential: apiKeyPrincipal('apiKeys', 'svc-ci') }, want: false },
    { name: 'spiffe match', caller: { peer: mtlsPrincipal('spiffe://example.org/ns/default/sa/billing') }, want: true },
    { name: 'spiffe other', caller: { peer: mtlsPrincipal('spiffe://example.org/ns/default/sa/x') }, want: false },
    {
      name: 'peer matches although the token does not',
      caller: { ...jwt('corp', 'bob'), peer: mtlsPrincipal('spiffe://example.org/ns/default/sa/billing') },
      want: true,
    },
    { name: 'empty caller', caller: {}, want: false },
  ])('$name', ({ caller, want }) => {
    expect(p.permits(caller)).toBe(want);
  });
});

describe('compilePolicy: claim rules', () => {
  // GitHub Actions: identity in repository / ref / environment, no groups claim.
  const github = policy([{ issuer: 'github', claims: { repository: 'acme/deploy', ref: ['refs/heads/main', 'refs/tags/v1'], environment: 'prod' } }]);
  // Kubernetes projected service-account token: nested under "kubernetes.io".
  const k8s = policy([{ issuer: 'k8s', claims: { '/kubernetes.io/namespace': 'billing', '/kubernetes.io/serviceaccount/name': 'invoicer' } }]);
  const literal = policy([
    { issuer: 'corp', claims: { 'kubernetes.io': 'flat', 'cognito:groups': 'admins', 'https://corp.test/tenant': 7, ref_protected: 'true' } },
  ]);
  const both = policy([{ issuer: 'corp', groups: ['writers'], claims: { tenant: 'a' } }]);
  const sa = { 'kubernetes.io': { namespace: 'billing', serviceaccount: { name: 'invoicer', uid: 'u' } } };
  it.each([
    {
      name: 'every claim matches, ref one of a list',
      p: github,
      caller: jwt('github', 'repo:acme/deploy:environment:prod', [], { repository: 'acme/deploy', ref: 'refs/tags/v1', environment: 'prod' }),
      want: true,
    },
    {
      name: 'one claim differs',
      p: github,
      caller: jwt('github', 's', [], { repository: 'acme/deploy', ref: 'refs/heads/feature', environment: 'prod' }),
      want: false,
    },
    { name: 'one claim missing', p: github, caller: jwt('github', 's', [], { repository: 'acme/deploy', ref: 'refs/heads/main' }), want: false },
    {
      name: 'a fork with a look-alike name',
      p: github,
      caller: jwt('github', 's', [], { repository: 'acme/deploy-fork', ref: 'refs/heads/main', environment: 'prod' }),
      want: false,
    },
    { name: 'nested claims by JSON pointer', p: k8s, caller: jwt('k8s', 'system:serviceaccount:billing:invoicer', [], sa), want: true },
    {
      name: 'nested claim in another namespace',
      p: k8s,
      caller: jwt('k8s', 's', [], { 'kubernetes.io': { namespace: 'dev', serviceaccount: { name: 'invoicer' } } }),
      want: false,
    },
    { name: 'a pointer through a string', p: k8s, caller: jwt('k8s', 's', [], { 'kubernetes.io': 'billing' }), want: false },
    {
      name: 'literal names with ".", ":" and "/"; a number; a string "true"',
      p: literal,
      caller: jwt('corp', 's', [], { 'kubernetes.io': 'flat', 'cognito:groups': ['users', 'admins'], 'https://corp.test/tenant': 7, ref_protected: 'true' }),
      want: true,
    },
    {
      name: 'types compare strictly (7 vs "7")',
      p: literal,
      caller: jwt('corp', 's', [], { 'kubernetes.io': 'flat', 'cognito:groups': 'admins', 'https://corp.test/tenant': '7', ref_protected: 'true' }),
      want: false,
    },
    {
      name: 'types compare strictly (true vs "true")',
      p: literal,
      caller: jwt('corp', 's', [], { 'kubernetes.io': 'flat', 'cognito:groups': 'admins', 'https://corp.test/tenant': 7, ref_protected: true }),
      want: false,
    },
    {
      name: 'an object claim never equals a value',
      p: literal,
      caller: jwt('corp', 's', [], { 'kubernetes.io': { toString: 'flat' }, 'cognito:groups': 'admins', 'https://corp.test/tenant': 7, ref_protected: 'true' }),
      want: false,
    },
    { name: 'groups and claims: both needed', p: both, caller: jwt('corp', 's', ['writers'], { tenant: 'a' }), want: true },
    { name: 'groups and claims: the claim fails', p: both, caller: jwt('corp', 's', ['writers'], { tenant: 'b' }), want: false },
    { name: 'groups and claims: the group fails', p: both, caller: jwt('corp', 's', ['readers'], { tenant: 'a' }), want: false },
    {
      name: 'no prototype member is a claim',
      p: policy([{ issuer: 'corp', claims: { '/constructor/name': 'Object' } }]),
      caller: jwt('corp', 's'),
      want: false,
    },
  ])('$name', ({ p, caller, want }) => {
    expect(p.permits(caller)).toBe(want);
  });

  it('SAML attributes are claims (lists of strings: any member)', () => {
    const p = policy([{ issuer: 'adfs', claims: { 'http://schemas.xmlsoap.org/claims/Group': 'Finance' } }]);
    const caller = (groups: string[]): Caller => ({
      credential: samlPrincipal('adfs', 'alice@corp.test', { 'http://schemas.xmlsoap.org/claims/Group': groups }),
    });
    expect(p.permits(caller(['Staff', 'Finance']))).toBe(true);
    expect(p.permits(caller(['Staff']))).toBe(false);
  });
});

describe('compilePolicy: credential kinds and API keys', () => {
  it.each([
    { name: 'JWT rules only', allow: [{ issuer: 'corp', groups: ['g'] }], accepts: ['jwt'] },
    { name: 'SPIFFE rules only', allow: [{ spiffeIds: ['spiffe://example.org/a'] }], accepts: ['mtls'] },
    {
      name: 'a rule naming the key store',
      allow: [
        { issuer: 'corp', groups: ['g'] },
        { issuer: 'apiKeys', groups: ['ci'] },
      ],
      accepts: ['jwt', 'apiKey'],
    },
    { name: 'a SAML rule', allow: [{ issuer: 'adfs', groups: ['g'] }], accepts: ['saml'] },
  ] satisfies { name: string; allow: AllowRule[]; accepts: CredentialKind[] }[])('$name accepts $accepts', ({ allow, accepts }) => {
    const p = policy(allow);
    expect((['jwt', 'mtls', 'apiKey', 'saml'] as const).filter((k) => p.accepts(k))).toEqual(accepts);
  });

  it('a key restricted to some functions reaches no other, whatever the rules say', () => {
    const rules: AllowRule[] = [{ issuer: 'apiKeys', groups: ['ci'] }];
    const key = { credential: apiKeyPrincipal('apiKeys', 'team', ['ci'], ['orders.create']) };
    expect(policy(rules, 'orders.create').permits(key)).toBe(true);
    expect(policy(rules, 'orders.delete').permits(key)).toBe(false);
    expect(policy(rules, 'orders.delete').permits({ credential: apiKeyPrincipal('apiKeys', 'team', ['ci']) })).toBe(true);
  });
});

describe('compilePolicy: explain (for the decision log: names, never values)', () => {
  const p = policy([
    { issuer: 'github', claims: { repository: 'acme/deploy', ref: 'refs/heads/main' } },
    { issuer: 'corp', groups: ['writers'] },
    { spiffeIds: ['spiffe://example.org/a'] },
  ]);
  it.each([
    {
      name: 'a claim differs',
      caller: jwt('github', 's', [], { repository: 'acme/deploy', ref: 'refs/heads/evil-secret-branch' }),
      want: 'rule 0: claims "ref" do not match; rule 1: credential from github, not corp; rule 2: no mTLS peer',
    },
    {
      name: 'no group',
      caller: jwt('corp', 'bob', ['readers']),
      want: 'rule 0: credential from corp, not github; rule 1: subject and groups not listed; rule 2: no mTLS peer',
    },
    {
      name: 'a peer only',
      caller: { peer: mtlsPrincipal('spiffe://example.org/b') },
      want: 'rule 0: no credential from github; rule 1: no credential from corp; rule 2: SPIFFE ID not listed',
    },
  ])('$name', ({ caller, want }) => {
    expect(p.permits(caller)).toBe(false);
    expect(p.explain(caller)).toBe(want);
    expect(p.explain(caller)).not.toContain('evil-secret-branch');
  });
});
