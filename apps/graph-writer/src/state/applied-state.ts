import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { EntraOperation, GraphValue } from '@canopy/contracts';

/**
 * What the writer last applied per anchor, so an unchanged op costs no write: the hash of the
 * desired state, the Entra id, the property values sent, and (groups) the member ids in Entra.
 * All of it can be rebuilt from Graph: losing it costs reads, never correctness.
 */
export interface AppliedRecord {
  /** Hash of the last fully applied desired state. */
  h: string | null;
  id: string;
  /** Property values as last written (or read). */
  p: Record<string, GraphValue>;
  /** Member set in Redis is authoritative for this group. */
  m?: boolean;
  /** Deleted by us (soft delete), at ms. */
  d?: number;
}

/** Canonical JSON: keys sorted at every depth. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Hash of an op's desired state (not of its ids, times or config version). Members are a set. */
export function desiredStateHash(op: Pick<EntraOperation, 'targetType' | 'action' | 'properties' | 'createOnly' | 'members' | 'uniqueCandidates'>): string {
  const state = {
    t: op.targetType,
    a: op.action,
    p: op.properties,
    c: [...op.createOnly].sort(),
    m: op.members ? [...new Set(op.members)].sort() : null,
    u: op.uniqueCandidates,
  };
  return createHash('sha256').update(canonicalJson(state)).digest('base64url');
}

function normalize(v: unknown): unknown {
  if (v === undefined || v === null || v === '') return null;
  if (Array.isArray(v)) return v.length === 0 ? null : [...v].map(String).sort();
  return v;
}

/** True when two Graph values mean the same (null = missing = '' = []; collections as sets). */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonicalJson(normalize(a)) === canonicalJson(normalize(b));
}

/** Names of the desired properties whose value differs from `current`. */
export function diffProperties(desired: Record<string, GraphValue>, current: Record<string, unknown>, skip: Iterable<string> = []): string[] {
  const skipSet = new Set(skip);
  return Object.keys(desired)
    .filter((k) => !skipSet.has(k))
    .filter((k) => !sameValue(desired[k], current[k]))
    .sort();
}

/** Adds and removes that take `current` member ids to `desired`. */
export function diffMembers(desired: Iterable<string>, current: Iterable<string>): { add: string[]; remove: string[] } {
  const d = new Set(desired);
  const c = new Set(current);
  return { add: [...d].filter((x) => !c.has(x)), remove: [...c].filter((x) => !d.has(x)) };
}

/** Split into chunks of at most `size` (20 member binds per PATCH). */
export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class AppliedState {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  #field(kind: string, anchor: string): string {
    return `${kind}:${anchor}`;
  }

  #membersKey(groupId: string): string {
    return `${this.prefix}:members:${groupId}`;
  }

  async get(kind: string, anchor: string): Promise<AppliedRecord | undefined> {
    const raw = await this.redis.hget(`${this.prefix}:applied`, this.#field(kind, anchor));
    return raw ? (JSON.parse(raw) as AppliedRecord) : undefined;
  }

  async set(kind: string, anchor: string, rec: AppliedRecord): Promise<void> {
    await this.redis.hset(`${this.prefix}:applied`, this.#field(kind, anchor), JSON.stringify(rec));
  }

  async clear(kind: string, anchor: string): Promise<void> {
    await this.redis.hdel(`${this.prefix}:applied`, this.#field(kind, anchor));
  }

  async members(groupId: string): Promise<string[]> {
    return this.redis.smembers(this.#membersKey(groupId));
  }

  async addMembers(groupId: string, ids: string[]): Promise<void> {
    if (ids.length) await this.redis.sadd(this.#membersKey(groupId), ...ids);
  }

  async removeMembers(groupId: string, ids: string[]): Promise<void> {
    if (ids.length) await this.redis.srem(this.#membersKey(groupId), ...ids);
  }

  /** Anchors the writer skipped as not writable through Graph (contacts, mail-enabled groups). */
  async markUnwritable(anchor: string): Promise<void> {
    await this.redis.sadd(`${this.prefix}:unwritable`, anchor);
  }

  async clearUnwritable(anchor: string): Promise<void> {
    await this.redis.srem(`${this.prefix}:unwritable`, anchor);
  }

  /** Which of `anchors` are known not writable (one round trip). */
  async unwritable(anchors: string[]): Promise<Set<string>> {
    if (!anchors.length) return new Set();
    const flags = await this.redis.smismember(`${this.prefix}:unwritable`, ...anchors);
    return new Set(anchors.filter((_, i) => flags[i] === 1));
  }

  /** Groups waiting for a member anchor that is not in Entra yet. */
  async addWaiting(memberAnchor: string, groupId: string): Promise<void> {
    const key = `${this.prefix}:waiting:${memberAnchor}`;
    await this.redis.multi().sadd(key, groupId).pexpire(key, 7 * 86_400_000).exec();
  }

  async waitingGroups(memberAnchor: string): Promise<string[]> {
    return this.redis.smembers(`${this.prefix}:waiting:${memberAnchor}`);
  }

  async doneWaiting(memberAnchor: string, groupId: string): Promise<void> {
    await this.redis.srem(`${this.prefix}:waiting:${memberAnchor}`, groupId);
  }

  async replaceMembers(groupId: string, ids: string[]): Promise<void> {
    const key = this.#membersKey(groupId);
    const tx = this.redis.multi().del(key);
    for (const part of chunk(ids, 1000)) tx.sadd(key, ...part);
    await tx.exec();
  }
}
