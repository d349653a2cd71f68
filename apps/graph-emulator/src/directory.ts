import { randomUUID } from 'node:crypto';
import type { Clock } from './clock.js';
import { GraphError, badRequest, conflict, notFound } from './graph-error.js';
import type { ExtensionDef } from './schema.js';

/**
 * The in-memory directory: users and groups with equality indexes (for $filter and uniqueness),
 * group membership in both directions, soft delete with a 30-day purge, a change log for delta,
 * and replication lag (an object is not readable until `visibleAt`).
 */
export type Kind = 'user' | 'group';

export interface DirObject {
  kind: Kind;
  id: string;
  /** Creation order; listing and paging follow it. */
  ord: number;
  props: Record<string, unknown>;
  state: 'live' | 'deleted';
  /** Replication lag: reads and references do not see the object before this time. */
  visibleAt: number;
  deletedAt?: number;
  /** Update lag: what reads see until `until` (the values before the last PATCH). */
  prev?: { props: Record<string, unknown>; until: number };
  /** A soft-deleted user's real UPN (Entra shows `<idWithoutDashes><upn>` while deleted). */
  savedUpn?: string;
  /** Sequence number of the last change (delta). */
  seq: number;
  members?: Set<string>;
  /** Membership changes of a group, for groups/delta with $select=members. */
  memberLog?: Array<{ seq: number; id: string; removed: boolean }>;
}

export interface RegisteredExtension extends ExtensionDef {
  id: string;
  /** Time from which the property can be written and read (real Graph needs seconds to minutes). */
  availableAt: number;
  /** Object id of the application that owns it. */
  appObjectId: string;
  appDisplayName: string;
}

export interface Domain {
  id: string;
  isVerified: boolean;
  isInitial: boolean;
  isDefault: boolean;
}

export const SOFT_DELETE_RETENTION_MS = 30 * 24 * 3600 * 1000;

const INDEXED: Record<Kind, string[]> = {
  user: ['userPrincipalName', 'mail', 'mailNickname', 'onPremisesImmutableId', 'displayName', 'proxyAddresses', 'employeeId', 'otherMails'],
  group: ['displayName', 'mail', 'mailNickname', 'proxyAddresses', 'onPremisesSecurityIdentifier'],
};

function indexOne(map: Map<string, string | Set<string>>, key: string, id: string, add: boolean): void {
  const cur = map.get(key);
  if (add) {
    if (cur === undefined) map.set(key, id);
    else if (typeof cur === 'string') {
      if (cur !== id) map.set(key, new Set([cur, id]));
    } else cur.add(id);
  } else if (cur !== undefined) {
    if (typeof cur === 'string') {
      if (cur === id) map.delete(key);
    } else {
      cur.delete(id);
      if (cur.size === 1) map.set(key, cur.values().next().value!);
      else if (cur.size === 0) map.delete(key);
    }
  }
}

class KindStore {
  readonly byId = new Map<string, DirObject>();
  /** All objects (live and soft-deleted) in creation order; purged entries are compacted away. */
  order: DirObject[] = [];
  private dead = 0;
  /** prop -> lower-cased value -> id (one holder, the common case) or ids. */
  readonly index = new Map<string, Map<string, string | Set<string>>>();
  /** Change log for delta: (seq, id); an entry is current only if the object's seq is still it. */
  changeSeq: number[] = [];
  changeId: string[] = [];
  liveCount = 0;

  constructor(indexed: string[]) {
    for (const p of indexed) this.index.set(p, new Map());
  }

  addIndex(prop: string): void {
    if (!this.index.has(prop)) this.index.set(prop, new Map());
  }

  indexObject(o: DirObject, add: boolean): void {
    for (const [prop, map] of this.index) {
      const v = o.props[prop];
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) {
        for (const raw of v) if (typeof raw === 'string') indexOne(map, raw.toLowerCase(), o.id, add);
      } else if (typeof v === 'string') indexOne(map, v.toLowerCase(), o.id, add);
    }
  }

  lookup(prop: string, lowerValue: string): Iterable<string> | undefined {
    const map = this.index.get(prop);
    if (!map) return undefined;
    const hit = map.get(lowerValue);
    return hit === undefined ? [] : typeof hit === 'string' ? [hit] : hit;
  }

  removeFromOrder(o: DirObject): void {
    (o as { purged?: boolean }).purged = true;
    this.dead++;
    if (this.dead > 1000 && this.dead * 2 > this.order.length) {
      this.order = this.order.filter((x) => !(x as { purged?: boolean }).purged);
      this.dead = 0;
    }
  }

  insertOrdered(o: DirObject): void {
    const last = this.order[this.order.length - 1];
    if (!last || last.ord < o.ord) {
      this.order.push(o);
      return;
    }
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.order[mid]!.ord < o.ord) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, o);
  }

  /** Position of the first entry with ord > `ord`. */
  positionAfter(ord: number): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.order[mid]!.ord <= ord) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  logChange(o: DirObject): void {
    this.changeSeq.push(o.seq);
    this.changeId.push(o.id);
    if (this.changeSeq.length > 4096 && this.changeSeq.length > 3 * (this.byId.size + 1024)) this.compactLog();
  }

  compactLog(): void {
    const seqs: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < this.changeSeq.length; i++) {
      const id = this.changeId[i]!;
      const o = this.byId.get(id);
      const current = o ? o.seq : undefined;
      if (current === this.changeSeq[i] || (!o && this.tombstones.get(id) === this.changeSeq[i])) {
        seqs.push(this.changeSeq[i]!);
        ids.push(id);
      }
    }
    this.changeSeq = seqs;
    this.changeId = ids;
  }

  /** Permanently deleted ids -> seq of the deletion (for delta `@removed: deleted`). */
  readonly tombstones = new Map<string, number>();
}

export interface DirectoryOptions {
  clock: Clock;
  replicationLagMs: number;
  /** Delay before a new directory extension property can be used. */
  extensionPropagationMs: number;
  /** After a PATCH, reads keep seeing the previous values for this long (0 = read-your-writes). */
  updateLagMs?: number;
  enforceMailNicknameUniqueness: boolean;
}

export class Directory {
  users = new KindStore(INDEXED.user);
  groups = new KindStore(INDEXED.group);
  /** member id -> group ids */
  memberOf = new Map<string, Set<string>>();
  extensions = new Map<string, RegisteredExtension>();
  private ordCounter = 0;
  seq = 0;
  private deletionQueue: Array<{ id: string; kind: Kind; deletedAt: number }> = [];
  private dqHead = 0;

  constructor(public options: DirectoryOptions) {}

  /** Forget every object and extension (the emulator's reset and import start from here). */
  clear(): void {
    this.users = new KindStore(INDEXED.user);
    this.groups = new KindStore(INDEXED.group);
    this.memberOf = new Map();
    this.extensions = new Map();
    this.ordCounter = 0;
    this.seq = 0;
    this.deletionQueue = [];
    this.dqHead = 0;
  }

  store(kind: Kind): KindStore {
    return kind === 'user' ? this.users : this.groups;
  }

  now(): number {
    return this.options.clock.now();
  }

  private nextSeq(): number {
    return ++this.seq;
  }

  // ---- lookup -------------------------------------------------------------------------------

  /** A live object readable now (replication lag respected), or undefined. */
  visible(kind: Kind, id: string): DirObject | undefined {
    const o = this.store(kind).byId.get(id.toLowerCase());
    if (!o || o.state !== 'live' || o.visibleAt > this.now()) return undefined;
    return o;
  }

  /** Any kind: users first, then groups. */
  visibleAny(id: string): DirObject | undefined {
    return this.visible('user', id) ?? this.visible('group', id);
  }

  userByUpn(upn: string): DirObject | undefined {
    const ids = this.users.lookup('userPrincipalName', upn.toLowerCase());
    for (const id of ids ?? []) {
      const o = this.visible('user', id);
      if (o) return o;
    }
    return undefined;
  }

  deleted(id: string): DirObject | undefined {
    const key = id.toLowerCase();
    const o = this.users.byId.get(key) ?? this.groups.byId.get(key);
    return o && o.state === 'deleted' ? o : undefined;
  }

  /** Properties as a read sees them now (the previous values while an update replicates). */
  readProps(o: DirObject): Record<string, unknown> {
    return o.prev && o.prev.until > this.now() ? o.prev.props : o.props;
  }

  // ---- uniqueness ---------------------------------------------------------------------------

  /** Throw Graph's conflict error if another live object holds one of the unique values. */
  checkUnique(kind: Kind, props: Record<string, unknown>, selfId?: string): void {
    const taken = (store: KindStore, prop: string, value: unknown): boolean => {
      if (typeof value !== 'string') return false;
      for (const id of store.lookup(prop, value.toLowerCase()) ?? []) if (id !== selfId) return true;
      return false;
    };
    if (kind === 'user') {
      if (taken(this.users, 'userPrincipalName', props.userPrincipalName)) throw conflict('userPrincipalName');
      if (taken(this.users, 'onPremisesImmutableId', props.onPremisesImmutableId)) throw conflict('onPremisesImmutableId');
    }
    const addresses = Array.isArray(props.proxyAddresses) ? (props.proxyAddresses as string[]) : [];
    for (const a of addresses) {
      if (taken(this.users, 'proxyAddresses', a) || taken(this.groups, 'proxyAddresses', a)) throw conflict('proxyAddresses');
    }
    if (typeof props.mailNickname === 'string') {
      // Microsoft 365 (mail-enabled) groups: "unique in the organization" (group resource docs).
      // Users: Entra does not require it (synced forests share aliases); opt in to be stricter.
      const mailScoped = (kind === 'user' && this.options.enforceMailNicknameUniqueness) || props.mailEnabled === true;
      if (mailScoped) {
        const nick = props.mailNickname;
        const inUsers = taken(this.users, 'mailNickname', nick);
        let inGroups = false;
        for (const id of this.groups.lookup('mailNickname', nick.toLowerCase()) ?? []) {
          if (id !== selfId && this.groups.byId.get(id)?.props.mailEnabled === true) inGroups = true;
        }
        if (inUsers || inGroups) throw conflict('mailNickname');
      }
    }
  }

  // ---- mutation -----------------------------------------------------------------------------

  create(kind: Kind, props: Record<string, unknown>, id: string = randomUUID()): DirObject {
    const now = this.now();
    const o: DirObject = {
      kind,
      id: id.toLowerCase(),
      ord: ++this.ordCounter,
      props: { ...props, createdDateTime: isoSeconds(now) },
      state: 'live',
      visibleAt: now + this.options.replicationLagMs,
      seq: this.nextSeq(),
    };
    if (kind === 'group') {
      o.members = new Set();
      o.memberLog = [];
    }
    const s = this.store(kind);
    s.byId.set(o.id, o);
    s.order.push(o);
    s.indexObject(o, true);
    s.logChange(o);
    s.liveCount++;
    return o;
  }

  update(o: DirObject, changes: Record<string, unknown>): void {
    const s = this.store(o.kind);
    const lag = this.options.updateLagMs ?? 0;
    if (lag > 0) {
      const now = this.now();
      if (!o.prev || o.prev.until <= now) o.prev = { props: { ...o.props }, until: now + lag };
      else o.prev.until = now + lag;
    }
    s.indexObject(o, false);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined) delete o.props[k];
      else o.props[k] = v;
    }
    s.indexObject(o, true);
    o.seq = this.nextSeq();
    s.logChange(o);
  }

  /** Soft delete: kept for 30 days with its id, restorable. */
  softDelete(o: DirObject): void {
    const s = this.store(o.kind);
    s.indexObject(o, false);
    const now = this.now();
    o.state = 'deleted';
    o.deletedAt = now;
    o.props.deletedDateTime = isoSeconds(now);
    if (o.kind === 'user' && typeof o.props.userPrincipalName === 'string') {
      // Entra prefixes a deleted user's UPN with its object id (no dashes) until restore.
      o.savedUpn = o.props.userPrincipalName;
      o.props.userPrincipalName = `${o.id.replace(/-/g, '')}${o.savedUpn}`;
    }
    o.seq = this.nextSeq();
    s.logChange(o);
    s.liveCount--;
    this.deletionQueue.push({ id: o.id, kind: o.kind, deletedAt: now });
    if (o.kind === 'group') {
      // a deleted group's own membership links stay (restored with it); it leaves its parents.
      this.logMembershipOfMember(o.id, true);
    } else {
      this.logMembershipOfMember(o.id, true);
    }
  }

  restore(o: DirObject): void {
    const props = o.savedUpn !== undefined ? { ...o.props, userPrincipalName: o.savedUpn } : o.props;
    this.checkUnique(o.kind, props, o.id);
    if (o.savedUpn !== undefined) {
      o.props.userPrincipalName = o.savedUpn;
      delete o.savedUpn;
    }
    const s = this.store(o.kind);
    o.state = 'live';
    delete o.deletedAt;
    o.props.deletedDateTime = null;
    delete o.props.deletedDateTime;
    o.seq = this.nextSeq();
    s.indexObject(o, true);
    s.logChange(o);
    s.liveCount++;
    this.logMembershipOfMember(o.id, false);
  }

  /** Permanent delete (from deletedItems, or the 30-day purge). */
  purge(o: DirObject): void {
    const s = this.store(o.kind);
    if (o.state === 'live') {
      s.indexObject(o, false);
      s.liveCount--;
    }
    s.byId.delete(o.id);
    s.removeFromOrder(o);
    const seq = this.nextSeq();
    s.tombstones.set(o.id, seq);
    s.changeSeq.push(seq);
    s.changeId.push(o.id);
    // drop membership links both ways
    for (const gid of this.memberOf.get(o.id) ?? []) {
      const g = this.groups.byId.get(gid);
      if (g?.members?.delete(o.id)) g.memberLog!.push({ seq, id: o.id, removed: true });
    }
    this.memberOf.delete(o.id);
    if (o.members) {
      for (const mid of o.members) this.memberOf.get(mid)?.delete(o.id);
    }
  }

  /** Purge soft-deleted objects older than 30 days. Cheap when nothing is due. */
  purgeExpired(): number {
    const cutoff = this.now() - SOFT_DELETE_RETENTION_MS;
    let n = 0;
    while (this.dqHead < this.deletionQueue.length && this.deletionQueue[this.dqHead]!.deletedAt <= cutoff) {
      const e = this.deletionQueue[this.dqHead++]!;
      const o = this.store(e.kind).byId.get(e.id);
      if (o && o.state === 'deleted' && o.deletedAt === e.deletedAt) {
        this.purge(o);
        n++;
      }
    }
    if (this.dqHead > 1024 && this.dqHead * 2 > this.deletionQueue.length) {
      this.deletionQueue = this.deletionQueue.slice(this.dqHead);
      this.dqHead = 0;
    }
    return n;
  }

  private logMembershipOfMember(memberId: string, removed: boolean): void {
    const seq = this.seq;
    for (const gid of this.memberOf.get(memberId) ?? []) {
      const g = this.groups.byId.get(gid);
      if (!g) continue;
      g.memberLog!.push({ seq, id: memberId, removed });
      g.seq = this.nextSeq();
      this.groups.logChange(g);
    }
  }

  addMember(group: DirObject, member: DirObject): void {
    if (group.members!.has(member.id)) {
      throw badRequest("One or more added object references already exist for the following modified properties: 'members'.");
    }
    group.members!.add(member.id);
    let set = this.memberOf.get(member.id);
    if (!set) this.memberOf.set(member.id, (set = new Set()));
    set.add(group.id);
    group.seq = this.nextSeq();
    group.memberLog!.push({ seq: group.seq, id: member.id, removed: false });
    this.groups.logChange(group);
  }

  removeMember(group: DirObject, memberId: string): void {
    const m = this.users.byId.get(memberId) ?? this.groups.byId.get(memberId);
    if (!group.members!.has(memberId) || !m || m.state !== 'live') throw notFound(memberId);
    group.members!.delete(memberId);
    this.memberOf.get(memberId)?.delete(group.id);
    group.seq = this.nextSeq();
    group.memberLog!.push({ seq: group.seq, id: memberId, removed: true });
    this.groups.logChange(group);
  }

  /** Live, visible members of a group. */
  *liveMembers(group: DirObject): Iterable<DirObject> {
    const now = this.now();
    for (const id of group.members ?? []) {
      const m = this.users.byId.get(id) ?? this.groups.byId.get(id);
      if (m && m.state === 'live' && m.visibleAt <= now) yield m;
    }
  }

  registerExtension(ext: RegisteredExtension): void {
    if (this.extensions.has(ext.name)) throw new GraphError(400, 'Request_BadRequest', `Property ${ext.name} already exists on the object.`);
    this.extensions.set(ext.name, ext);
    if (!ext.isMultiValued || ext.dataType === 'String') {
      if (ext.targetObjects.includes('User')) this.users.addIndex(ext.name);
      if (ext.targetObjects.includes('Group')) this.groups.addIndex(ext.name);
    }
  }

  // ---- export / import ----------------------------------------------------------------------

  /** The tenant's objects as records, one at a time (streamed as NDJSON for large tenants). */
  *exportRecords(): Generator<StateRecord> {
    for (const ext of this.extensions.values()) yield { type: 'extension', ...ext };
    for (const kind of ['user', 'group'] as const) {
      for (const o of this.store(kind).order) {
        if ((o as { purged?: boolean }).purged) continue;
        yield {
          type: kind,
          id: o.id,
          state: o.state,
          ...(o.deletedAt !== undefined ? { deletedAt: o.deletedAt } : {}),
          ...(o.savedUpn !== undefined ? { savedUpn: o.savedUpn } : {}),
          props: o.props,
          ...(o.members ? { members: [...o.members] } : {}),
        };
      }
    }
  }

  exportState(): DirectoryState {
    const out: DirectoryState = { users: [], groups: [], extensions: [] };
    for (const r of this.exportRecords()) {
      if (r.type === 'extension') {
        const { type: _t, ...ext } = r;
        out.extensions.push(ext);
      } else {
        const { type, ...obj } = r;
        (type === 'user' ? out.users : out.groups).push(obj);
      }
    }
    return out;
  }

  /** Load records incrementally (objects first-come; memberships applied at `finish`). */
  importer(): { add(record: StateRecord): void; finish(): { users: number; groups: number } } {
    const memberships: Array<[string, string[]]> = [];
    let users = 0;
    let groups = 0;
    return {
      add: (r) => {
        if (r.type === 'extension') {
          const { type: _t, ...ext } = r;
          this.registerExtension(ext);
          return;
        }
        if (r.type !== 'user' && r.type !== 'group') throw new Error(`unknown state record type ${String((r as { type: unknown }).type)}`);
        const kind: Kind = r.type;
        const o = this.create(kind, {}, r.id);
        const s = this.store(kind);
        s.indexObject(o, false);
        o.props = { ...r.props };
        o.visibleAt = 0;
        if (r.state === 'deleted') {
          o.state = 'deleted';
          o.deletedAt = r.deletedAt ?? this.now();
          if (r.savedUpn !== undefined) o.savedUpn = r.savedUpn;
          s.liveCount--;
          this.deletionQueue.push({ id: o.id, kind, deletedAt: o.deletedAt });
        } else s.indexObject(o, true);
        if (kind === 'user') users++;
        else {
          groups++;
          if (r.members?.length) memberships.push([o.id, r.members]);
        }
      },
      finish: () => {
        this.deletionQueue.sort((a, b) => a.deletedAt - b.deletedAt);
        for (const [gid, members] of memberships) {
          const group = this.groups.byId.get(gid)!;
          for (const mid of members) {
            const key = mid.toLowerCase();
            if (!this.users.byId.has(key) && !this.groups.byId.has(key)) continue;
            group.members!.add(key);
            let set = this.memberOf.get(key);
            if (!set) this.memberOf.set(key, (set = new Set()));
            set.add(gid);
          }
        }
        return { users, groups };
      },
    };
  }

  importState(state: DirectoryState): void {
    const imp = this.importer();
    for (const ext of state.extensions ?? []) imp.add({ type: 'extension', ...ext });
    for (const u of state.users ?? []) imp.add({ type: 'user', ...u });
    for (const g of state.groups ?? []) imp.add({ type: 'group', ...g });
    imp.finish();
  }
}

type ObjectRecord = { id: string; state: 'live' | 'deleted'; deletedAt?: number; savedUpn?: string; props: Record<string, unknown>; members?: string[] };
export type StateRecord = ({ type: 'extension' } & RegisteredExtension) | ({ type: 'user' | 'group' } & ObjectRecord);

export interface DirectoryState {
  users: ObjectRecord[];
  groups: ObjectRecord[];
  extensions: RegisteredExtension[];
}

let isoCacheSecond = -1;
let isoCacheValue = '';
/** ISO 8601 without milliseconds, as Graph writes createdDateTime (cached per second). */
export function isoSeconds(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec !== isoCacheSecond) {
    isoCacheSecond = sec;
    isoCacheValue = new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return isoCacheValue;
}
