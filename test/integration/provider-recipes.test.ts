import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCallguard, type Callguard } from '../../src/build-callguard.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { ReasonCode } from '../../src/errors.js';
import { type RunningServer, startGrpcServer } from '../../src/server/grpc-server.js';
import { createCheckClient, summarize } from '../helpers/envoy-check.js';
import { createTestIssuer, type TestIssuer } from '../helpers/jwt-issuer.js';
import { createMemoryDestination } from '../helpers/memory-destination.js';
import {
  ENTRA,
  entraAccessToken,
  entraGroupsOverage,
  GITHUB,
  GITLAB,
  githubActionsToken,
  gitlabIdToken,
  KEYCLOAK,
  KUBERNETES,
  keycloakAccessToken,
  kubernetesServiceAccountToken,
  OKTA,
  oktaAccessToken,
  type ProviderToken,
} from '../helpers/provider-claims.js';

// The README's "Identities" recipes, each proven here: a token with the provider's real claim set
// (test/helpers/provider-claims.ts, with the documentation each set follows) is minted with a local
// key and sent through the gRPC Check path. Every issuer's keys are served by its own local JWKS
// server; in production the line marked `# production:` replaces `jwksUrl`.

type Provider = 'github' | 'gitlab' | 'k8s' | 'keycloak' | 'entra' | 'okta';
const PROVIDERS: readonly Provider[] = ['github', 'gitlab', 'k8s', 'keycloak', 'entra', 'okta'];

/** callguard's clock and every token's `iat`: tokens are minted for this instant, never for the wall clock. */
const NOW_MS = Date.parse('2026-06-01T09:00:00Z');
const IAT = NOW_MS / 1000;

/** The recipes, verbatim but for the key source. */
const recipesYaml = (jwks: Readonly<Record<Provider, string>>) => `
server: { listen: "127.0.0.1:0" }
identity:
  issuers:
    - name: github
      issuer: https://token.actions.githubusercontent.com
      audiences: [https://callguard.acme.example]   # core.getIDToken('https://callguard.acme.example')
      algorithms: [RS256]
      jwksUrl: ${jwks.github}   # production: discovery: true
    - name: gitlab
      issuer: https://gitlab.com
      audiences: [https://callguard.acme.example]   # id_tokens: { CALLGUARD_TOKEN: { aud: https://callguard.acme.example } }
      algorithms: [RS256]
      jwksUrl: ${jwks.gitlab}   # production: discovery: true
    - name: k8s
      issuer: https://kubernetes.default.svc.cluster.local
      audiences: [callguard]   # the projected volume's serviceAccountToken.audience
      algorithms: [RS256]
      jwksUrl: ${jwks.k8s}   # production: jwksFile: k8s-jwks.json (kubectl get --raw /openid/v1/jwks)
    - name: keycloak
      issuer: https://kc.example/realms/acme
      audiences: [orders-api]   # an audience mapper adds orders-api to aud
      algorithms: [RS256]
      groupsClaim: /realm_access/roles
      jwksUrl: ${jwks.keycloak}   # production: discovery: true
    - name: entra
      issuer: https://login.microsoftonline.com/aaaabbbb-0000-cccc-1111-dddd2222eeee/v2.0
      audiences: [c3b6a5f2-1e4d-4b8a-9c7f-2d5e8a1b4c6d]   # the API's client ID (requestedAccessTokenVersion: 2)
      algorithms: [RS256]
      groupsClaim: groups
      jwksUrl: ${jwks.entra}   # production: discovery: true
    - name: okta
      issuer: https://acme.okta.com/oauth2/default
      audiences: [api://default]
      algorithms: [RS256]
      groupsClaim: groups
      jwksUrl: ${jwks.okta}   # production: discovery: true
functions:
  - name: github.deploy
    match: { method: POST, path: /github/deploy }
    allow:
      - issuer: github
        claims:
          repository: acme/deploy
          repository_id: "758412093"
          ref: refs/heads/main
          environment: prod
          event_name: [push, workflow_dispatch]
          job_workflow_ref: acme/platform/.github/workflows/deploy.yml@refs/heads/main
  - name: gitlab.deploy
    match: { method: POST, path: /gitlab/deploy }
    allow:
      - issuer: gitlab
        claims:
          project_path: acme/deploy
          ref_type: branch
          ref: main
          ref_protected: "true"
  - name: gitlab.deploy-unquoted
    match: { method: POST, path: /gitlab/deploy-unquoted }
    allow:
      - issuer: gitlab
        claims: { project_path: acme/deploy, ref_type: branch, ref: main, ref_protected: true }   # wrong: a boolean
  - name: billing.invoices
    match: { method: POST, path: /k8s/invoices }
    allow:
      - issuer: k8s
        claims:
          /kubernetes.io/namespace: billing
          /kubernetes.io/serviceaccount/name: invoicer
  - name: orders.approve
    match: { method: POST, path: /keycloak/orders/approve }
    allow:
      - issuer: keycloak
        groups: [orders-approver]   # a realm role
        claims: { typ: Bearer }
  - name: orders.write
    match: { method: POST, path: /keycloak/orders }
    allow:
      - issuer: keycloak
        claims:
          /resource_access/orders-api/roles: orders-writer   # a client role of orders-api
          typ: Bearer
  - name: entra.orders.approve
    match: { method: POST, path: /entra/orders/approve }
    allow:
      - issuer: entra   # daemons holding the app role
        claims: { tid: aaaabbbb-0000-cccc-1111-dddd2222eeee, roles: Orders.Approve }
      - issuer: entra   # users in the approvers group (object ID)
        groups: [0b7e3d9f-5a1c-4e2b-8d6f-1a3c5e7b9d0f]
        claims: { tid: aaaabbbb-0000-cccc-1111-dddd2222eeee }
  - name: entra.orders.scp
    match: { method: POST, path: /entra/orders/scp }
    allow:
      - issuer: entra
        claims: { tid: aaaabbbb-0000-cccc-1111-dddd2222eeee, scp: Orders.Approve }   # compares the whole string
  - name: okta.orders
    match: { method: POST, path: /okta/orders }
    allow:
      - issuer: okta   # the orders service (client credentials)
        claims: { cid: 0oa8f2svcOrders5d7, scp: orders:write }
      - issuer: okta   # users in the group, through an app granted the scope
        groups: [orders-approvers]
        claims: { scp: orders:write }
`;

const idp = {} as Record<Provider, TestIssuer>;
let callguard: Callguard;
let server: RunningServer;
let client: ReturnType<typeof createCheckClient>;
let dir: string;

beforeAll(async () => {
  const issuers = await Promise.all(PROVIDERS.map(() => createTestIssuer({ now: () => NOW_MS })));
  PROVIDERS.forEach((name, i) => {
    idp[name] = issuers[i] as TestIssuer;
  });
  const jwks = Object.fromEntries(PROVIDERS.map((name) => [name, idp[name].jwksUrl])) as Record<Provider, string>;
  dir = mkdtempSync(join(tmpdir(), 'callguard-recipes-'));
  const config = parseConfig(recipesYaml(jwks), join(dir, 'callguard.yaml'));
  callguard = await buildCallguard(config, { decisionLog: createMemoryDestination().stream, now: () => NOW_MS });
  server = await startGrpcServer(config.server, callguard.handleCheck);
  client = createCheckClient(server.address);
});
afterAll(async () => {
  client?.close();
  await server?.close(1000);
  await callguard?.close();
  await Promise.all(PROVIDERS.map((name) => idp[name]?.close()));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

interface Case {
  readonly name: string;
  readonly path: string;
  readonly token: () => ProviderToken;
  /** Expected denial; absent: allowed. */
  readonly code?: ReasonCode;
  readonly status: number;
  /** For an allow: the upstream `x-callguard-subject` and `x-callguard-groups`. */
  readonly subject?: string;
  readonly groups?: string;
}

/** Mints the case's token with the provider's key, sends it through Check, and asserts the decision. */
async function expectDecision(provider: Provider, issuer: string, c: Case): Promise<void> {
  const { header, claims } = c.token();
  const token = await idp[provider].mint({ header, claims });
  const s = summarize(await client.check({ method: 'POST', path: c.path, headers: { authorization: `Bearer ${token}` } }));
  expect(s.allow ? undefined : s.problem.code).toBe(c.code);
  if (!s.allow) {
    expect(s.status).toBe(c.status);
    return;
  }
  expect(c.status).toBe(200);
  expect(s.headers).toMatchObject({
    'x-callguard-subject': c.subject,
    'x-callguard-issuer': issuer,
    'x-callguard-groups': c.groups ?? '',
    'x-callguard-credential': 'jwt',
  });
  expect(s.remove).toContain('authorization');
}

describe('GitHub Actions OIDC: main of acme/deploy, environment prod, through the reviewed deploy workflow', () => {
  const gh =
    (claims: Record<string, unknown> = {}) =>
    () =>
      githubActionsToken(IAT, claims);
  const cases: Case[] = [
    { name: 'push to main', path: '/github/deploy', token: gh(), status: 200, subject: 'repo:acme/deploy:environment:prod' },
    {
      name: 'manual run on main',
      path: '/github/deploy',
      token: gh({ event_name: 'workflow_dispatch' }),
      status: 200,
      subject: 'repo:acme/deploy:environment:prod',
    },
    {
      // A fork can create an environment "prod", call the org's public reusable workflow and ask for our audience.
      name: 'a fork calling the same reusable workflow',
      path: '/github/deploy',
      token: gh({
        repository: 'mallory/deploy',
        repository_owner: 'mallory',
        repository_owner_id: '90311577',
        repository_id: '771203558',
        actor: 'mallory',
        actor_id: '6654321',
        workflow_ref: 'mallory/deploy/.github/workflows/release.yml@refs/heads/main',
      }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      name: 'acme/deploy deleted and re-created (new repository_id)',
      path: '/github/deploy',
      token: gh({ repository_id: '801977342' }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      // An environment without deployment-branch rules takes any branch: `environment` alone is not enough.
      name: 'another branch deploying to prod',
      path: '/github/deploy',
      token: gh({ ref: 'refs/heads/feature-x', workflow_ref: 'acme/deploy/.github/workflows/release.yml@refs/heads/feature-x' }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      name: 'pull_request event',
      path: '/github/deploy',
      token: gh({
        event_name: 'pull_request',
        ref: 'refs/pull/7/merge',
        head_ref: 'feature-x',
        base_ref: 'main',
        environment: undefined,
        workflow_ref: 'acme/deploy/.github/workflows/release.yml@refs/pull/7/merge',
      }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      // pull_request_target runs on the base branch (ref main) for a fork's pull request: only event_name tells.
      name: 'pull_request_target on main',
      path: '/github/deploy',
      token: gh({ event_name: 'pull_request_target', head_ref: 'patch-1', base_ref: 'main' }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      name: 'a workflow that bypasses the reviewed deploy workflow',
      path: '/github/deploy',
      token: gh({ job_workflow_ref: 'acme/deploy/.github/workflows/release.yml@refs/heads/main' }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      name: 'default audience (the workflow did not ask for ours)',
      path: '/github/deploy',
      token: gh({ aud: 'https://github.com/acme' }),
      code: 'ERR_TOKEN_AUDIENCE',
      status: 401,
    },
  ];
  it.each(cases)('$name → $status $code', (c) => expectDecision('github', GITHUB.issuer, c));
});

describe('GitLab CI ID token: protected main of acme/deploy', () => {
  const gl =
    (claims: Record<string, unknown> = {}) =>
    () =>
      gitlabIdToken(IAT, claims);
  const cases: Case[] = [
    { name: 'pipeline on protected main', path: '/gitlab/deploy', token: gl(), status: 200, subject: 'project_path:acme/deploy:ref_type:branch:ref:main' },
    {
      name: 'main while unprotected (ref_protected "false")',
      path: '/gitlab/deploy',
      token: gl({ ref_protected: 'false' }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      name: 'unprotected feature branch',
      path: '/gitlab/deploy',
      token: gl({ ref: 'feature-x', ref_path: 'refs/heads/feature-x', ref_protected: 'false' }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      name: 'another project of the group',
      path: '/gitlab/deploy',
      token: gl({ project_path: 'acme/website', project_id: '45678999' }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    // GitLab sends the string "true": a rule with an unquoted YAML `true` (a boolean) never matches it.
    { name: 'protected main against a rule written ref_protected: true', path: '/gitlab/deploy-unquoted', token: gl(), code: 'ERR_NOT_PERMITTED', status: 403 },
  ];
  it.each(cases)('$name → $status $code', (c) => expectDecision('gitlab', GITLAB.issuer, c));
});

describe('Kubernetes projected service-account token: billing/invoicer', () => {
  const sa =
    (options: Parameters<typeof kubernetesServiceAccountToken>[1] = {}) =>
    () =>
      kubernetesServiceAccountToken(IAT, options);
  const cases: Case[] = [
    { name: 'pod running as billing/invoicer', path: '/k8s/invoices', token: sa(), status: 200, subject: 'system:serviceaccount:billing:invoicer' },
    {
      name: 'same service-account name in another namespace',
      path: '/k8s/invoices',
      token: sa({ namespace: 'payments' }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      name: "another service account in billing (the namespace's default)",
      path: '/k8s/invoices',
      token: sa({ serviceAccount: 'default' }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    // The token every pod gets for the API server (kube-api-access volume: a year, with warnafter) is not for callguard.
    {
      name: 'the default API-server token',
      path: '/k8s/invoices',
      token: sa({ audience: KUBERNETES.issuer, expirationSeconds: 365 * 24 * 3600, warnAfterSeconds: 3607 }),
      code: 'ERR_TOKEN_AUDIENCE',
      status: 401,
    },
  ];
  it.each(cases)('$name → $status $code', (c) => expectDecision('k8s', KUBERNETES.issuer, c));
});

describe('Keycloak access token: realm role as groups, client role by pointer', () => {
  const kc =
    (options: Parameters<typeof keycloakAccessToken>[1] = {}) =>
    () =>
      keycloakAccessToken(IAT, options);
  const subject = '5f8d1c2a-3b4e-4d6f-8a9b-0c1d2e3f4a5b';
  const cases: Case[] = [
    {
      name: 'realm role orders-approver',
      path: '/keycloak/orders/approve',
      token: kc({ realmRoles: ['orders-approver'] }),
      status: 200,
      subject,
      groups: 'default-roles-acme,offline_access,uma_authorization,orders-approver',
    },
    {
      name: 'client role orders-api/orders-writer',
      path: '/keycloak/orders',
      token: kc({ clientRoles: { 'orders-api': ['orders-writer'] } }),
      status: 200,
      subject,
      groups: 'default-roles-acme,offline_access,uma_authorization',
    },
    { name: 'without the realm role', path: '/keycloak/orders/approve', token: kc(), code: 'ERR_NOT_PERMITTED', status: 403 },
    {
      name: 'orders-writer of another client (billing-api)',
      path: '/keycloak/orders',
      token: kc({ clientRoles: { 'billing-api': ['orders-writer'] } }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      // An ID token of the client orders-api itself (aud = its client ID), with the role mappers added to ID tokens.
      name: 'an ID token (typ ID) with the role',
      path: '/keycloak/orders/approve',
      token: kc({
        realmRoles: ['orders-approver'],
        claims: { typ: 'ID', aud: 'orders-api', azp: 'orders-api', nonce: 'n-0S6_WzA2Mj', at_hash: 'fPlsvVszI29LU2UhDyJ9vg' },
      }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      name: 'no audience mapper (aud account)',
      path: '/keycloak/orders/approve',
      token: kc({ realmRoles: ['orders-approver'], claims: { aud: 'account' } }),
      code: 'ERR_TOKEN_AUDIENCE',
      status: 401,
    },
  ];
  it.each(cases)('$name → $status $code', (c) => expectDecision('keycloak', KEYCLOAK.issuer, c));
});

describe('Microsoft Entra ID v2.0 access token: app role or group, in our tenant', () => {
  const entra =
    (kind: 'app' | 'user', claims: Record<string, unknown> = {}, tenant?: string) =>
    () =>
      entraAccessToken(IAT, { kind, claims, ...(tenant ? { tenant } : {}) });
  const aliceGroups = `${ENTRA.approversGroup},${ENTRA.otherGroup}`;
  const cases: Case[] = [
    { name: 'daemon app with the app role', path: '/entra/orders/approve', token: entra('app'), status: 200, subject: ENTRA.daemonObjectId },
    { name: 'user in the approvers group', path: '/entra/orders/approve', token: entra('user'), status: 200, subject: ENTRA.aliceSubject, groups: aliceGroups },
    {
      name: 'user in over 200 groups (overage: no groups claim)',
      path: '/entra/orders/approve',
      token: entra('user', entraGroupsOverage(ENTRA.tenant, ENTRA.aliceObjectId)),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      name: 'app of our tenant without the app role',
      path: '/entra/orders/approve',
      token: entra('app', { roles: undefined }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    // Every tenant's tokens are signed with the same Microsoft keys, and another tenant's admins assign our app's roles there.
    {
      name: "another tenant's app holding the same app role",
      path: '/entra/orders/approve',
      token: entra('app', {}, ENTRA.otherTenant),
      code: 'ERR_TOKEN_ISSUER',
      status: 401,
    },
    // scp is one space-separated string, compared whole.
    {
      name: 'scp "Orders.Read Orders.Approve" against a rule scp: Orders.Approve',
      path: '/entra/orders/scp',
      token: entra('user'),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      name: 'scp exactly "Orders.Approve"',
      path: '/entra/orders/scp',
      token: entra('user', { scp: 'Orders.Approve' }),
      status: 200,
      subject: ENTRA.aliceSubject,
      groups: aliceGroups,
    },
  ];
  it.each(cases)('$name → $status $code', (c) => expectDecision('entra', ENTRA.issuer(ENTRA.tenant), c));
});

describe('Okta custom authorization server: the orders service, or approvers with the scope', () => {
  const okta =
    (kind: 'service' | 'user', claims: Record<string, unknown> = {}) =>
    () =>
      oktaAccessToken(IAT, { kind, claims });
  const cases: Case[] = [
    { name: 'the orders service (client credentials)', path: '/okta/orders', token: okta('service'), status: 200, subject: OKTA.serviceClientId },
    {
      name: 'a user in orders-approvers',
      path: '/okta/orders',
      token: okta('user'),
      status: 200,
      subject: 'alice@acme.example',
      groups: 'Everyone,orders-approvers',
    },
    {
      name: 'another client with the scope',
      path: '/okta/orders',
      token: okta('service', { cid: '0oa9otherClient2x', sub: '0oa9otherClient2x' }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    {
      name: 'the orders service without the scope',
      path: '/okta/orders',
      token: okta('service', { scp: ['orders:read'] }),
      code: 'ERR_NOT_PERMITTED',
      status: 403,
    },
    { name: 'a user token without a groups claim', path: '/okta/orders', token: okta('user', { groups: undefined }), code: 'ERR_NOT_PERMITTED', status: 403 },
  ];
  it.each(cases)('$name → $status $code', (c) => expectDecision('okta', OKTA.issuer, c));
});
