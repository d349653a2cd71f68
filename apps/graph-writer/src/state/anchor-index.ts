import type { Redis } from 'ioredis';
import type { Logger } from '@canopy/logger';
import { odataString, query } from '../graph/graph-client.js';
import type { GraphReader } from '../graph/graph-reader.js';
import type { GraphClient } from '../graph/graph-client.js';

/**
 * anchor -> Entra object id, cached in Redis (two hashes: users, groups) and rebuilt from Graph
 * when missing. Users are found by onPremisesImmutableId (Entra's own hard-match attribute); groups
 * have no writable onPremisesImmutableId, so the writer registers a directory extension property
 * on its app (extension_<appId>_canopyAnchor) and stamps every group it creates with it.
 */
export type EntraKind = 'user' | 'group';

export const ANCHOR_EXTENSION = 'canopyAnchor';

export interface LiveObject {
  id: string;
  [prop: string]: unknown;
}

/** Misses above this many make one scan of the tenant cheaper than one lookup per anchor. */
export const SCAN_THRESHOLD = 50;

export class AnchorIndex {
  #scan: { at: number; done: Promise<Record<EntraKind, Map<string, string>>> } | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly reader: GraphReader,
    private readonly anchorProperty: () => string,
    private readonly log: Logger,
  ) {}

  #key(kind: EntraKind): string {
    return `${this.prefix}:anchors:${kind}`;
  }

  filterFor(kind: EntraKind, anchor: string): string {
    const prop = kind === 'user' ? 'onPremisesImmutableId' : this.anchorProperty();
    return `${prop} eq ${odataString(anchor)}`;
  }

  /** Cached id only (no Graph call). */
  async cached(kind: EntraKind, anchor: string): Promise<string | undefined> {
    return (await this.redis.hget(this.#key(kind), anchor)) ?? undefined;
  }

  async cachedMany(kind: EntraKind, anchors: string[]): Promise<Array<string | undefined>> {
    if (!anchors.length) return [];
    const out: Array<string | undefined> = [];
    for (let i = 0; i < anchors.length; i += 1000) {
      const part = await this.redis.hmget(this.#key(kind), ...anchors.slice(i, i + 1000));
      out.push(...part.map((v) => v ?? undefined));
    }
    return out;
  }

  async set(kind: EntraKind, anchor: string, id: string): Promise<void> {
    await this.redis.hset(this.#key(kind), anchor, id);
  }

  async forget(kind: EntraKind, anchor: string): Promise<void> {
    await this.redis.hdel(this.#key(kind), anchor);
  }

  /**
   * Read the anchor of every live user and group from Graph (999 per page) into the cache: what
   * a large group's members cost after the cache was lost (Redis wiped) or before it was warm,
   * instead of one lookup per member. Concurrent callers share one scan; a scan is reused for
   * `maxAgeMs`. An anchor held by two objects is left out (resolve() decides and logs it).
   */
  scanAll(maxAgeMs = 5_000): Promise<Record<EntraKind, Map<string, string>>> {
    if (this.#scan && Date.now() - this.#scan.at < maxAgeMs) return this.#scan.done;
    const at = Date.now();
    const done = (async () => {
      const found: Record<EntraKind, Map<string, string>> = { user: new Map(), group: new Map() };
      for (const kind of ['user', 'group'] as const) {
        const prop = kind === 'user' ? 'onPremisesImmutableId' : this.anchorProperty();
        const rows = await this.reader.all<Record<string, unknown>>(`/${kind === 'user' ? 'users' : 'groups'}${query({ $select: `id,${prop}`, $top: 999 })}`);
        const ids = new Map<string, string | null>();
        for (const r of rows) {
          const a = r[prop];
          if (typeof a === 'string' && a) ids.set(a, ids.has(a) ? null : String(r.id));
        }
        const entries = [...ids].filter((e): e is [string, string] => e[1] !== null);
        for (let i = 0; i < entries.length; i += 1000) await this.redis.hset(this.#key(kind), Object.fromEntries(entries.slice(i, i + 1000)));
        found[kind] = new Map(entries);
      }
      return found;
    })();
    this.#scan = { at, done };
    done.catch(() => {
      if (this.#scan?.done === done) this.#scan = undefined;
    });
    return done;
  }

  /**
   * The live object holding `anchor`, from the cache or Graph ($filter). `fresh` skips the cache
   * (after an uncertain create, or when a cached id answered 404).
   */
  async resolve(kind: EntraKind, anchor: string, options: { fresh?: boolean } = {}): Promise<string | undefined> {
    if (!options.fresh) {
      const hit = await this.cached(kind, anchor);
      if (hit) return hit;
    }
    const found = await this.lookupLive(kind, anchor);
    if (found.length > 1) {
      this.log.error({ anchor, kind, ids: found.map((o) => o.id) }, 'more than one Entra object holds this anchor; using the oldest');
    }
    const id = found[0]?.id;
    if (id) await this.set(kind, anchor, id);
    else await this.forget(kind, anchor);
    return id;
  }

  async lookupLive(kind: EntraKind, anchor: string): Promise<LiveObject[]> {
    const coll = kind === 'user' ? 'users' : 'groups';
    const res = await this.reader.get<{ value: LiveObject[] }>(`/${coll}${query({ $filter: this.filterFor(kind, anchor), $select: 'id,createdDateTime' })}`);
    return res.value ?? [];
  }

  /** A soft-deleted object (restorable for 30 days) holding `anchor`. */
  async lookupDeleted(kind: EntraKind, anchor: string): Promise<LiveObject | undefined> {
    const res = await this.reader.get<{ value: LiveObject[] }>(
      `/directory/deletedItems/microsoft.graph.${kind}${query({ $filter: this.filterFor(kind, anchor), $select: 'id,deletedDateTime' })}`,
    );
    const items = res.value ?? [];
    // The most recently deleted one, if an anchor was deleted more than once.
    items.sort((a, b) => String(b.deletedDateTime ?? '').localeCompare(String(a.deletedDateTime ?? '')));
    return items[0];
  }

  /** Resolve a member anchor, which may be a user or a group. */
  async resolveMember(anchor: string, fresh = false): Promise<string | undefined> {
    if (!fresh) {
      const [u, g] = await Promise.all([this.cached('user', anchor), this.cached('group', anchor)]);
      if (u ?? g) return u ?? g;
    }
    return (await this.resolve('user', anchor, { fresh: true })) ?? (await this.resolve('group', anchor, { fresh: true }));
  }

  /** Intent markers: a create was sent and its outcome is not known yet. */
  async markCreating(kind: EntraKind, anchor: string): Promise<void> {
    await this.redis.set(`${this.prefix}:creating:${kind}:${anchor}`, String(Date.now()), 'PX', 24 * 3_600_000);
  }

  async creatingSince(kind: EntraKind, anchor: string): Promise<number | undefined> {
    const v = await this.redis.get(`${this.prefix}:creating:${kind}:${anchor}`);
    return v ? Number(v) : undefined;
  }

  async clearCreating(kind: EntraKind, anchor: string): Promise<void> {
    await this.redis.del(`${this.prefix}:creating:${kind}:${anchor}`);
  }
}

/**
 * Find or register the directory extension property that carries the anchor on groups (and is
 * readable on users). Needs Application.ReadWrite.OwnedBy on the writer's own app registration.
 */
export async function ensureAnchorExtension(graph: GraphClient, reader: GraphReader, clientId: string, log: Logger): Promise<string> {
  const app = `/applications(appId='${clientId}')`;
  const existing = await reader.get<{ value: Array<{ name: string; targetObjects: string[] }> }>(`${app}/extensionProperties`);
  const found = existing.value.find((e) => e.name.endsWith(`_${ANCHOR_EXTENSION}`));
  if (found) return found.name;
  const created = await graph.call<{ name: string }>({
    method: 'POST',
    path: `${app}/extensionProperties`,
    body: { name: ANCHOR_EXTENSION, dataType: 'String', targetObjects: ['Group', 'User'] },
  });
  log.info({ name: created.name }, 'registered the anchor directory extension property on the app');
  return created.name;
}
