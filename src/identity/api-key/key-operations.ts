import { generateApiKey, newKeyId } from './api-key-format.js';
import type { KeyRecord, KeysFile } from './keys-file.js';
import { parseTimestamp } from './parse-timestamp.js';

/** What `callguard keys` does to a keys file: pure functions from the old file to the new one. */

export type KeyStatus = 'active' | 'expired' | 'revoked';

export function keyStatus(record: KeyRecord, nowMs: number): KeyStatus {
  const revokedAt = record.revokedAt === undefined ? undefined : parseTimestamp(record.revokedAt);
  if (revokedAt !== undefined && revokedAt <= nowMs) return 'revoked';
  return (parseTimestamp(record.expiresAt) ?? 0) <= nowMs ? 'expired' : 'active';
}

export interface NewKey {
  readonly owner: string;
  readonly expiresAtMs: number;
  readonly groups: readonly string[];
  readonly functions?: readonly string[];
  readonly note?: string;
}

/** Adds a key; returns the new file, its record and the key (to be shown once, never stored). */
export function createKey(file: KeysFile, spec: NewKey, nowMs: number, maxLifetimeDays: number): { file: KeysFile; record: KeyRecord; key: string } {
  if (spec.expiresAtMs <= nowMs) throw new Error('the expiry must be in the future');
  if (spec.expiresAtMs - nowMs > maxLifetimeDays * 86_400_000) {
    throw new Error(`the key would live longer than ${maxLifetimeDays} days (identity.apiKeys.maxLifetimeDays)`);
  }
  const { key, hash } = generateApiKey();
  const record: KeyRecord = {
    id: newKeyId(),
    owner: spec.owner,
    createdAt: new Date(nowMs).toISOString(),
    expiresAt: new Date(spec.expiresAtMs).toISOString(),
    groups: [...spec.groups],
    ...(spec.functions !== undefined ? { functions: [...spec.functions] } : {}),
    ...(spec.note !== undefined ? { note: spec.note } : {}),
    hash,
  };
  return { file: { version: 1, keys: [...file.keys, record] }, record, key };
}

/** Revokes, from now, the keys with these ids or of this owner (offboarding: every key they hold). */
export function revokeKeys(file: KeysFile, which: { ids?: readonly string[]; owner?: string }, nowMs: number): { file: KeysFile; revoked: KeyRecord[] } {
  const unknown = (which.ids ?? []).filter((id) => !file.keys.some((k) => k.id === id));
  if (unknown.length > 0) throw new Error(`no key with id ${unknown.join(', ')}`);
  const revoked: KeyRecord[] = [];
  const keys = file.keys.map((record) => {
    const named = which.ids?.includes(record.id) === true || (which.owner !== undefined && record.owner === which.owner);
    if (!named || keyStatus(record, nowMs) === 'revoked') return record;
    const next = { ...record, revokedAt: new Date(nowMs).toISOString() };
    revoked.push(next);
    return next;
  });
  return { file: { version: 1, keys }, revoked };
}

/**
 * Replaces a key: a new key with the same owner, grants and note, and the old one cut to expire
 * after `graceMs` (never later than it already would) so callers can switch without an outage.
 */
export function rotateKey(
  file: KeysFile,
  id: string,
  graceMs: number,
  expiresAtMs: number,
  nowMs: number,
  maxLifetimeDays: number,
): { file: KeysFile; record: KeyRecord; key: string; old: KeyRecord } {
  const old = file.keys.find((k) => k.id === id);
  if (old === undefined) throw new Error(`no key with id ${id}`);
  if (keyStatus(old, nowMs) !== 'active') throw new Error(`key ${id} is ${keyStatus(old, nowMs)}; create a new one instead`);
  const created = createKey(
    file,
    { owner: old.owner, expiresAtMs, groups: old.groups, ...(old.functions ? { functions: old.functions } : {}), ...(old.note ? { note: old.note } : {}) },
    nowMs,
    maxLifetimeDays,
  );
  const cutOff = Math.min(parseTimestamp(old.expiresAt) ?? nowMs, nowMs + graceMs);
  const replaced: KeyRecord = { ...old, expiresAt: new Date(Math.max(cutOff, nowMs + 1)).toISOString(), rotatedTo: created.record.id };
  const keys = created.file.keys.map((k) => (k.id === id ? replaced : k));
  return { file: { version: 1, keys }, record: created.record, key: created.key, old: replaced };
}

/** `30d`, `12h`, `15m`, `90s` → milliseconds; undefined when not that shape. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d{1,6})([smhd])$/.exec(value);
  if (match === null) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
