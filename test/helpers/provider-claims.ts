/**
 * Real claim sets of the identity providers callguard is configured for (the "Identities" recipes),
 * as each provider documents them: a token minted from these with a local key is, claim for claim and
 * header for header, what the provider would send. Times are seconds since the epoch; `claims`
 * overrides are merged last (`undefined` removes a claim, see TestIssuer.mint).
 */
export interface ProviderToken {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
}

type Claims = Readonly<Record<string, unknown>>;

const SHA = 'd6cd1e2bd19e03a81132a23b2025920577f84e37';

// GitHub Actions OIDC: https://docs.github.com/en/actions/reference/security/oidc (claims, `sub` forms)
// and https://docs.github.com/en/actions/concepts/security/openid-connect (example token: header with
// `typ: JWT` and `x5t`; IDs are strings; nbf = iat - 600, exp = iat + 300).
export const GITHUB = {
  issuer: 'https://token.actions.githubusercontent.com',
  /** Set by the workflow: `core.getIDToken('https://callguard.acme.example')`. */
  audience: 'https://callguard.acme.example',
  repositoryId: '758412093',
  deployWorkflow: 'acme/platform/.github/workflows/deploy.yml@refs/heads/main',
} as const;

/** A GitHub Actions job's ID token; `sub` follows GitHub's rules: environment, else pull_request, else ref. */
export function githubActionsToken(iat: number, claims: Claims = {}): ProviderToken {
  const merged: Record<string, unknown> = {
    jti: '0b8c2f4e-6a2d-4f0a-9d1e-3c5b7a9e1f20',
    aud: GITHUB.audience,
    ref: 'refs/heads/main',
    sha: SHA,
    repository: 'acme/deploy',
    repository_owner: 'acme',
    repository_owner_id: '81234567',
    repository_visibility: 'private',
    repository_id: GITHUB.repositoryId,
    actor: 'alice-acme',
    actor_id: '5123456',
    run_id: '9876543210',
    run_number: '412',
    run_attempt: '1',
    runner_environment: 'github-hosted',
    workflow: 'release',
    workflow_ref: 'acme/deploy/.github/workflows/release.yml@refs/heads/main',
    workflow_sha: SHA,
    job_workflow_ref: GITHUB.deployWorkflow,
    job_workflow_sha: '5f0c6e4b1d3a2c9e8b7a6f5e4d3c2b1a0f9e8d7c',
    head_ref: '',
    base_ref: '',
    event_name: 'push',
    ref_type: 'branch',
    environment: 'prod',
    iss: GITHUB.issuer,
    nbf: iat - 600,
    exp: iat + 300,
    iat,
    ...claims,
  };
  const context =
    typeof merged.environment === 'string'
      ? `environment:${merged.environment}`
      : merged.event_name === 'pull_request'
        ? 'pull_request'
        : `ref:${String(merged.ref)}`;
  return { header: { typ: 'JWT', x5t: 'cHlnOBoF7fXg0tBSCkPaVgAjDx0' }, claims: { sub: `repo:${String(merged.repository)}:${context}`, ...merged } };
}

// GitLab CI/CD ID tokens: https://docs.gitlab.com/ci/secrets/id_token_authentication/ (token payload;
// `ref_protected` and `environment_protected` are the strings "true"/"false": Ci::JwtV2 sends
// `build.protected.to_s`; IDs are strings, `runner_id` a number; nbf = iat - 5, exp = iat + 3600).
export const GITLAB = { issuer: 'https://gitlab.com', audience: 'https://callguard.acme.example' } as const;

/** A GitLab CI job's `id_tokens` entry; `sub` is `project_path:…:ref_type:…:ref:…` as GitLab builds it. */
export function gitlabIdToken(iat: number, claims: Claims = {}): ProviderToken {
  const merged: Record<string, unknown> = {
    namespace_id: '1234567',
    namespace_path: 'acme',
    project_id: '45678901',
    project_path: 'acme/deploy',
    user_id: '2345678',
    user_login: 'alice',
    user_email: 'alice@acme.example',
    user_access_level: 'maintainer',
    pipeline_id: '1519139981',
    pipeline_source: 'push',
    job_id: '8222997048',
    ref: 'main',
    ref_type: 'branch',
    ref_path: 'refs/heads/main',
    ref_protected: 'true',
    environment: 'production',
    environment_protected: 'true',
    deployment_tier: 'production',
    environment_action: 'start',
    runner_id: 12270835,
    runner_environment: 'gitlab-hosted',
    sha: SHA,
    project_visibility: 'private',
    ci_config_ref_uri: 'gitlab.com/acme/deploy//.gitlab-ci.yml@refs/heads/main',
    ci_config_sha: SHA,
    jti: '63ab75f4-2606-4f0e-a500-86f90ab13a85',
    iss: GITLAB.issuer,
    iat,
    nbf: iat - 5,
    exp: iat + 3600,
    aud: GITLAB.audience,
    ...claims,
  };
  const sub = `project_path:${String(merged.project_path)}:ref_type:${String(merged.ref_type)}:ref:${String(merged.ref)}`;
  return { header: { typ: 'JWT' }, claims: { sub, ...merged } };
}

// Kubernetes projected service-account token (TokenRequest): private claims under "kubernetes.io"
// (pkg/serviceaccount/claims.go; `node` and `jti` since v1.30/v1.32), header `alg` + `kid` only:
// https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-tokens
export const KUBERNETES = { issuer: 'https://kubernetes.default.svc.cluster.local', audience: 'callguard' } as const;

export interface ServiceAccountToken {
  readonly namespace?: string;
  readonly serviceAccount?: string;
  /** `serviceAccountToken.audience` of the projected volume (the default volume's is the API server). */
  readonly audience?: string;
  readonly expirationSeconds?: number;
  /** Set by the API server on the default volume's token, whose expiry it extends to a year. */
  readonly warnAfterSeconds?: number;
  readonly claims?: Claims;
}

/** A token from a projected `serviceAccountToken` volume of pod `invoicer-7d9f8b6c5-x2x9k` (by default). */
export function kubernetesServiceAccountToken(iat: number, options: ServiceAccountToken = {}): ProviderToken {
  const { namespace = 'billing', serviceAccount = 'invoicer', audience = KUBERNETES.audience, expirationSeconds = 3600 } = options;
  const claims = {
    aud: [audience],
    exp: iat + expirationSeconds,
    iat,
    iss: KUBERNETES.issuer,
    jti: '7c1f3b2a-9e4d-4a6b-8f0c-2d5e6a7b8c9d',
    'kubernetes.io': {
      namespace,
      node: { name: 'ip-10-0-12-34.eu-west-1.compute.internal', uid: '3a8f5c2e-1b4d-4e6f-9a0b-7c8d9e0f1a2b' },
      pod: { name: `${serviceAccount}-7d9f8b6c5-x2x9k`, uid: '9e2d4c6b-8a0f-4e1d-b3c5-a7f9e1d3b5c7' },
      serviceaccount: { name: serviceAccount, uid: 'a709ef71-30e2-489a-bd19-ade97031b9db' },
      ...(options.warnAfterSeconds === undefined ? {} : { warnafter: iat + options.warnAfterSeconds }),
    },
    nbf: iat,
    sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
    ...options.claims,
  };
  return { header: {}, claims };
}

// Keycloak access token (org.keycloak.representations.AccessToken): header `typ: JWT`, payload `typ: Bearer`
// (ID tokens: `typ: ID`), realm roles in realm_access.roles, client roles in resource_access.<client>.roles;
// `aud` is `account` unless an audience mapper adds the API:
// https://www.keycloak.org/docs-api/latest/javadocs/org/keycloak/representations/AccessToken.html
// https://www.keycloak.org/docs/latest/server_admin/#audience-support
export const KEYCLOAK = { issuer: 'https://kc.example/realms/acme', audience: 'orders-api' } as const;

export interface KeycloakToken {
  readonly realmRoles?: readonly string[];
  readonly clientRoles?: Readonly<Record<string, readonly string[]>>;
  readonly claims?: Claims;
}

/** Alice's access token from the `orders-web` client, with an audience mapper for `orders-api`. */
export function keycloakAccessToken(iat: number, options: KeycloakToken = {}): ProviderToken {
  const roles = Object.entries({ ...options.clientRoles, account: ['manage-account', 'manage-account-links', 'view-profile'] });
  const claims = {
    exp: iat + 300,
    iat,
    auth_time: iat - 40,
    jti: 'f1d2c3b4-a5e6-4f78-9a0b-1c2d3e4f5a6b',
    iss: KEYCLOAK.issuer,
    aud: [KEYCLOAK.audience, 'account'],
    sub: '5f8d1c2a-3b4e-4d6f-8a9b-0c1d2e3f4a5b',
    typ: 'Bearer',
    azp: 'orders-web',
    sid: '2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901',
    acr: '1',
    'allowed-origins': ['https://orders.acme.example'],
    realm_access: { roles: ['default-roles-acme', 'offline_access', 'uma_authorization', ...(options.realmRoles ?? [])] },
    resource_access: Object.fromEntries(roles.map(([client, list]) => [client, { roles: list }])),
    scope: 'openid email profile',
    email_verified: true,
    name: 'Alice Liddell',
    preferred_username: 'alice',
    given_name: 'Alice',
    family_name: 'Liddell',
    email: 'alice@acme.example',
    ...options.claims,
  };
  return { header: { typ: 'JWT' }, claims };
}

// Microsoft Entra ID v2.0 access token: https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference
// (header `typ: JWT`; `aud` = the API's client ID; `scp` one space-separated string; `roles` and `groups`
// arrays; groups overage: no `groups`, `_claim_names`/`_claim_sources` instead; lifetime 60-90 minutes).
export const ENTRA = {
  tenant: 'aaaabbbb-0000-cccc-1111-dddd2222eeee',
  otherTenant: 'bbbbcccc-1111-dddd-2222-eeee3333ffff',
  /** The API's application (client) ID: the v2.0 `aud`. */
  apiClientId: 'c3b6a5f2-1e4d-4b8a-9c7f-2d5e8a1b4c6d',
  approversGroup: '0b7e3d9f-5a1c-4e2b-8d6f-1a3c5e7b9d0f',
  otherGroup: '6d2f8a4c-0e1b-4c3d-9f5a-7b8c9d0e1f2a',
  daemonObjectId: 'e5a1c3b7-2d4f-4a6b-9c8e-0f1a2b3c4d5e',
  aliceObjectId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
  /** Alice's pairwise `sub` for this API. */
  aliceSubject: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
  issuer: (tenant: string) => `https://login.microsoftonline.com/${tenant}/v2.0`,
} as const;

export interface EntraToken {
  /** `app`: client credentials (roles, no scp); `user`: a delegated token (scp, groups). */
  readonly kind: 'app' | 'user';
  readonly tenant?: string;
  readonly claims?: Claims;
}

export function entraAccessToken(iat: number, options: EntraToken): ProviderToken {
  const tenant = options.tenant ?? ENTRA.tenant;
  const common = {
    aud: ENTRA.apiClientId,
    iss: ENTRA.issuer(tenant),
    iat,
    nbf: iat,
    exp: iat + 4199,
    aio: 'E2RgYJg9ZcPq/+l1AA==',
    rh: '0.AXEAv4j5cvGGr0GRqy180BHbR8O2pcNPHh5Ln38tXo',
    tid: tenant,
    uti: 'xBq4d3XkD0u2Yv1cZr8AAA',
    ver: '2.0',
  };
  // The daemon's service principal: `sub` = `oid`, app roles in `roles`, `idtyp` as an optional claim.
  const app = {
    azp: '4f1c7b2e-9d3a-4e5f-8b6c-1a2d3e4f5a6b',
    azpacr: '1',
    idtyp: 'app',
    oid: ENTRA.daemonObjectId,
    sub: ENTRA.daemonObjectId,
    roles: ['Orders.Approve'],
  };
  // Alice through the SPA (`azpacr: 0`): pairwise `sub`, object-ID `groups`, `scp` for the delegated scopes.
  const user = {
    azp: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
    azpacr: '0',
    groups: [ENTRA.approversGroup, ENTRA.otherGroup],
    name: 'Alice Example',
    oid: ENTRA.aliceObjectId,
    preferred_username: 'alice@acme.example',
    scp: 'Orders.Read Orders.Approve',
    sub: ENTRA.aliceSubject,
    wids: ['b79fbf4d-3ef9-4689-8143-76b194e85509'],
  };
  return { header: { typ: 'JWT' }, claims: { ...common, ...(options.kind === 'app' ? app : user), ...options.claims } };
}

/** Entra's groups overage: more than 200 groups, so `groups` is replaced by a pointer to Graph. */
export function entraGroupsOverage(tenant: string, oid: string): Claims {
  const endpoint = `https://graph.windows.net/${tenant}/users/${oid}/getMemberObjects`;
  return { groups: undefined, _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint } } };
}

// Okta custom authorization server access token: https://developer.okta.com/docs/concepts/tokens/ (claims `ver`,
// `jti` "AT.…", `cid`, `uid` for users, `scp` an array); header `kid` + `alg` only, only the org server's
// tokens carry a `typ`: https://support.okta.com/help/s/article/the-typ-field-is-missing-from-the-access-token-header;
// `groups` only with a groups claim configured: https://developer.okta.com/docs/guides/customize-tokens-groups-claim/main/
export const OKTA = { issuer: 'https://acme.okta.com/oauth2/default', audience: 'api://default', serviceClientId: '0oa8f2svcOrders5d7' } as const;

export interface OktaToken {
  /** `service`: client credentials (`sub` = `cid`); `user`: authorization code (`uid`, `sub` = login). */
  readonly kind: 'service' | 'user';
  readonly claims?: Claims;
}

export function oktaAccessToken(iat: number, options: OktaToken): ProviderToken {
  const common = { ver: 1, jti: 'AT.MNAoEQ_jbKqoinrQo1D0XKjMX28U5d7ZszBceot7-Ts', iss: OKTA.issuer, aud: OKTA.audience, iat, exp: iat + 3600 };
  const service = { cid: OKTA.serviceClientId, scp: ['orders:write'], sub: OKTA.serviceClientId };
  const user = {
    cid: '0oa8f2webOrders3k1',
    uid: '00u1a2b3c4D5e6F7g8h9',
    scp: ['openid', 'profile', 'orders:write'],
    auth_time: iat - 60,
    sub: 'alice@acme.example',
    groups: ['Everyone', 'orders-approvers'],
  };
  return { header: {}, claims: { ...common, ...(options.kind === 'service' ? service : user), ...options.claims } };
}
