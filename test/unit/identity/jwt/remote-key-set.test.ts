import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FetchConfig } from '../../../../src/config/types.js';
import { createJwtAuthenticator, type JwtAuthenticator } from '../../../../src/identity/jwt/jwt-authenticator.js';
import { TEST_FETCH, testIdentityConfig, testIssuerConfig } from '../../../helpers/jwt-config.js';
import { createEventRecorder, type EventRecorder } from '../../../helpers/jwt-events.js';
import { createTestIssuer, type IssuerMode, type TestIssuer, type TestKey } from '../../../helpers/jwt-issuer.js';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const FETCH: FetchConfig = TEST_FETCH;

interface Rig {
  idp: TestIssuer;
  verifier: JwtAuthenticator;
  recorder: EventRecorder;
  /** How long `createJwtAuthenticator` took, initial fetch included. */
  createdInMs: number;
  /** Moves the shared clock forward by `seconds`. */
  advance(seconds: number): void;
  /** Mints a fresh token (at the current clock) and returns its verification code or 'ok'. */
  check(key?: TestKey): Promise<string>;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    rig.verifier.close();
    await rig.idp.close();
  }
});

async function createRig(options: { mode?: IssuerMode; fetch?: Partial<FetchConfig> } = {}): Promise<Rig> {
  let t = T0;
  const now = () => t;
  const idp = await createTestIssuer({ now });
  idp.setMode(options.mode ?? 'ok');
  const recorder = createEventRecorder();
  const config = testIssuerConfig(idp, { fetch: { ...FETCH, ...options.fetch } });
  // tokenCacheSize 0: every check reaches the key set.
  const started = performance.now();
  const verifier = await createJwtAuthenticator(testIdentityConfig([config], { tokenCacheSize: 0 }), { now, onEvent: recorder.onEvent });
  const rig: Rig = {
    idp,
    verifier,
    recorder,
    createdInMs: performance.now() - started,
    advance(seconds) {
      t += seconds * 1000;
    },
    async check(key = idp.rs256) {
      const result = await verifier.authenticate(await idp.mint({ key }));
      return result.ok ? 'ok' : result.code;
    },
  };
  rigs.push(rig);
  return rig;
}

describe('remote key set', () => {
  it('refetches once on an unknown kid, then not again within the cooldown', async () => {
    const { idp, check, advance } = await createRig();
    expect(idp.requests.jwks).toBe(1);
    const [stranger, other] = await Promise.all([idp.createKey('RS256'), idp.createKey('ES256')]);
    expect(await check(stranger)).toBe('ERR_TOKEN_KEY_UNKNOWN');
    expect(idp.requests.jwks).toBe(2);
    advance(10);
    expect(await check(other)).toBe('ERR_TOKEN_KEY_UNKNOWN');
    expect(idp.requests.jwks).toBe(2);
    advance(21);
    expect(await check(other)).toBe('ERR_TOKEN_KEY_UNKNOWN');
    expect(idp.requests.jwks).toBe(3);
  });

  it('shares one fetch among concurrent callers with unknown kids', async () => {
    const { idp, check } = await createRig();
    const strangers = await Promise.all([idp.createKey('RS256'), idp.createKey('RS256'), idp.createKey('ES256')]);
    const codes = await Promise.all(strangers.map((key) => check(key)));
    expect(codes).toEqual(['ERR_TOKEN_KEY_UNKNOWN', 'ERR_TOKEN_KEY_UNKNOWN', 'ERR_TOKEN_KEY_UNKNOWN']);
    expect(idp.requests.jwks).toBe(2);
  });

  it('accepts a rotated-in kid after one refetch', async () => {
    const { idp, check } = await createRig();
    const next = await idp.createKey('ES256');
    idp.publish(idp.rs256, next);
    expect(await check(next)).toBe('ok');
    expect(idp.requests.jwks).toBe(2);
    expect(await check(next)).toBe('ok');
    expect(idp.requests.jwks).toBe(2);
  });

  it('refreshes in the background after refreshSeconds while the old set keeps serving', async () => {
    const { idp, check, advance, recorder } = await createRig();
    const next = await idp.createKey('RS256');
    idp.publish(next);
    advance(FETCH.refreshSeconds);
    const refreshed = recorder.next('info');
    expect(await check(idp.rs256)).toBe('ok'); // served from the stale set; the refresh runs behind
    await refreshed;
    expect(idp.requests.jwks).toBe(2);
    expect(await check(next)).toBe('ok');
    expect(idp.requests.jwks).toBe(2);
  });

  it.each([
    { name: 'HTTP errors', mode: 'error' as const },
    { name: 'refused connections', mode: 'refuse' as const },
  ])('keeps known keys until maxStaleSeconds while the IdP answers with $name', async ({ mode }) => {
    const { idp, check, advance, recorder } = await createRig();
    idp.setMode(mode);
    advance(FETCH.refreshSeconds);
    const failed = recorder.next('warn');
    expect(await check()).toBe('ok');
    expect((await failed).msg).toMatch(/^fetching signing keys failed/);
    advance(FETCH.maxStaleSeconds - FETCH.refreshSeconds);
    expect(await check()).toBe('ok');
    advance(1);
    expect(await check()).toBe('ERR_KEYS_UNAVAILABLE');
    expect(await check()).toBe('ERR_KEYS_UNAVAILABLE');
    idp.setMode('ok');
    advance(FETCH.unknownKidCooldownSeconds);
    expect(await check()).toBe('ok');
  });

  it('starts without keys when the IdP is down, reports it, and recovers', async () => {
    const { idp, check, advance, recorder } = await createRig({ mode: 'refuse' });
    expect(recorder.events.map((e) => e.level)).toEqual(['warn']);
    expect(await check()).toBe('ERR_KEYS_UNAVAILABLE');
    expect(idp.requests.jwks).toBe(1); // within the cooldown: no new attempt
    idp.setMode('ok');
    advance(FETCH.unknownKidCooldownSeconds);
    expect(await check()).toBe('ok');
    expect(await check(idp.es256)).toBe('ok');
    expect(idp.requests.jwks).toBe(2);
  });

  it('aborts a slow JWKS fetch on the request path after timeoutMs', async () => {
    const { idp, check, advance, recorder } = await createRig({ fetch: { timeoutMs: 50, maxStaleSeconds: 60, unknownKidCooldownSeconds: 1 } });
    expect(await check()).toBe('ok');
    idp.setMode('hang');
    advance(120); // past maxStaleSeconds: the key set must refetch before it can serve
    expect(await check()).toBe('ERR_KEYS_UNAVAILABLE');
    expect(recorder.events.at(-1)).toEqual({ level: 'warn', msg: 'fetching signing keys failed: timed out', issuer: 'test' });
  });

  it('gives the start-up fetch more time than a request-path fetch', async () => {
    // The test issuer hangs; creation still completes (the fetch is aborted, not awaited forever)
    // and the outcome is a coded denial, never a thrown error.
    const { check, recorder } = await createRig({ mode: 'hang', fetch: { timeoutMs: 50 } });
    expect(recorder.events).toEqual([{ level: 'warn', msg: 'fetching signing keys failed: timed out', issuer: 'test' }]);
    expect(await check()).toBe('ERR_KEYS_UNAVAILABLE');
  });
});

describe('remote key set: status (readiness and metrics)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports keys fetched, the last fetch, and their age on its own clock', async () => {
    const { verifier, idp, advance, check } = await createRig({ fetch: { unknownKidCooldownSeconds: 1, maxStaleSeconds: 3600 } });
    expect(verifier.keySources?.()).toEqual([{ name: 'test', loaded: true, lastFetchOk: true, ageSeconds: 0 }]);
    idp.setMode('error');
    advance(400); // past refreshSeconds: the next call refreshes in the background, and that fails
    expect(await check()).toBe('ok');
    await vi.waitFor(() => expect(verifier.keySources?.()).toEqual([{ name: 'test', loaded: true, lastFetchOk: false, ageSeconds: 400 }]));
  });

  it('never fetched: retried in the background every cooldown, with no call to trigger it, until it works', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { verifier, idp } = await createRig({ mode: 'error', fetch: { unknownKidCooldownSeconds: 5 } });
    expect(verifier.keySources?.()).toEqual([{ name: 'test', loaded: false, lastFetchOk: false, ageSeconds: undefined }]);
    expect(idp.requests.jwks).toBe(1);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(idp.requests.jwks).toBe(1); // not before the cooldown
    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(() => expect(idp.requests.jwks).toBe(2));
    idp.setMode('ok');
    await vi.advanceTimersByTimeAsync(5_000);
    await vi.waitFor(() => expect(verifier.keySources?.()[0]).toMatchObject({ loaded: true, lastFetchOk: true }));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(idp.requests.jwks).toBe(3); // loaded: no more background retries
  });
});
