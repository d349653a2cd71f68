import { PermanentError } from '@canopy/errors';
import { DIRSYNC_FLAGS, DirSyncControl } from '../ldap/dirsync-control.js';
import { ExtendedDnControl, parseExtendedDn } from '../ldap/extended-dn.js';
import type { LdapConnection } from '../ldap/ldap-connection.js';
import { parseRangedAttribute } from '../ldap/range-retrieval.js';
import { dnRefs } from './snapshot-builder.js';
import { IN_SCOPE_FILTER } from './scope.js';

export interface DirSyncChange {
  objectGuid: Buffer;
  dn: string;
  /** DirSync said the object is deleted (a tombstone). */
  deleted: boolean;
  lastKnownParent: string | null;
}

export interface DeltaPull {
  /** Objects DirSync reported as changed, in the order it returned them (deduplicated). */
  changed: DirSyncChange[];
  /** GUIDs of members added to or removed from a group (incremental values). */
  membershipTouched: Buffer[];
  cookie: Buffer;
  /** DirSync entries seen (before deduplication). */
  entries: number;
  calls: number;
}

/** The DC refused our cookie (too old, from another DC or domain, corrupt): a full read is needed. */
export class StaleCookieError extends PermanentError {}

const key = (g: Buffer) => g.toString('hex');

/**
 * One DirSync delta of a naming context: call with the stored cookie until the DC says there is
 * no more (moreResults), with incremental values so a group's membership change lists only the
 * members added (`member;range=1-1`) and removed (`member;range=0-0`). DirSync returns only the
 * changed attributes; the caller reads each changed object whole. Whatever else DirSync returns
 * (with replication rights Samba includes password hashes) is dropped here and never leaves.
 */
export async function pullDelta(conn: LdapConnection, namingContext: string, cookie: Buffer | null, maxCalls = 10_000): Promise<DeltaPull> {
  const changed = new Map<string, DirSyncChange>();
  const touched = new Map<string, Buffer>();
  let current: Buffer = cookie ?? Buffer.alloc(0);
  let entries = 0;
  let calls = 0;
  for (;;) {
    const control = new DirSyncControl({ flags: DIRSYNC_FLAGS.INCREMENTAL_VALUES, cookie: current });
    let page;
    try {
      page = await conn.search(namingContext, { scope: 'sub', filter: IN_SCOPE_FILTER, attributes: [], explicitBufferAttributes: ['objectGUID'] }, [
        control,
        new ExtendedDnControl(),
      ]);
    } catch (err) {
      const e = err as PermanentError;
      const code = (e.details as { resultCode?: number } | undefined)?.resultCode;
      // Credentials and rights are reported as they are; any other permanent refusal of a
      // non-empty cookie means the cookie is no good.
      if (current.length > 0 && e.retriable === false && code !== 49 && code !== 50 && code !== 32) {
        throw new StaleCookieError(`DirSync refused the stored cookie for ${namingContext}: ${e.message}`, { type: 'Ldap.StaleCookie', cause: err });
      }
      throw err;
    }
    calls++;
    if (!control.responded) {
      throw new PermanentError(`the DC did not answer the DirSync control on ${namingContext} (not an AD DC, or no replication right)`, {
        type: 'Ldap.DirSyncUnsupported',
      });
    }
    for (const e of page) {
      entries++;
      const ext = parseExtendedDn(e.dn);
      const rawGuid = e.objectGUID;
      const guid = Buffer.isBuffer(rawGuid) && rawGuid.length === 16 ? rawGuid : ext.guid;
      if (!guid) continue;
      const isDeleted = String(e.isDeleted ?? '').toUpperCase() === 'TRUE';
      const lkp = typeof e.lastKnownParent === 'string' ? parseExtendedDn(e.lastKnownParent).dn : null;
      const prev = changed.get(key(guid));
      changed.delete(key(guid));
      changed.set(key(guid), { objectGuid: guid, dn: ext.dn, deleted: isDeleted || (prev?.deleted ?? false), lastKnownParent: lkp ?? prev?.lastKnownParent ?? null });
      for (const [attr, value] of Object.entries(e)) {
        const r = parseRangedAttribute(attr);
        if (!r || r.name.toLowerCase() !== 'member') continue;
        for (const ref of dnRefs(Array.isArray(value) ? (value as Array<string | Buffer>) : [value as string | Buffer])) touched.set(key(ref.guid), ref.guid);
      }
    }
    current = control.cookie;
    if (!control.moreResults) break;
    if (calls >= maxCalls) throw new PermanentError(`DirSync on ${namingContext} did not finish after ${calls} calls`, { type: 'Ldap.DirSyncRunaway' });
  }
  return { changed: [...changed.values()], membershipTouched: [...touched.values()], cookie: current, entries, calls };
}

/**
 * A cookie for "now" without reading the directory through DirSync: asking for objectGUID only
 * returns (on Samba) nothing or (on Windows) just GUIDs, and the final cookie marks the point
 * after which every change will be reported. Taken before a full read, so nothing that changes
 * during the read is missed (it shows up again in the first delta: at-least-once).
 */
export async function baselineCookie(conn: LdapConnection, namingContext: string, stopping: () => boolean = () => false): Promise<Buffer> {
  let current: Buffer = Buffer.alloc(0);
  for (let calls = 0; calls < 100_000; calls++) {
    // A large forest takes many calls: a shutdown does not wait for all of them.
    if (stopping()) throw new PermanentError(`stopping during the DirSync baseline of ${namingContext}`, { type: 'Reader.Stopping' });
    const control = new DirSyncControl({ flags: 0, cookie: current });
    await conn.search(namingContext, { scope: 'sub', filter: IN_SCOPE_FILTER, attributes: ['objectGUID'], explicitBufferAttributes: ['objectGUID'] }, [control]);
    if (!control.responded) throw new PermanentError(`the DC did not answer the DirSync control on ${namingContext}`, { type: 'Ldap.DirSyncUnsupported' });
    current = control.cookie;
    if (!control.moreResults) return current;
  }
  throw new PermanentError(`DirSync baseline on ${namingContext} did not finish`, { type: 'Ldap.DirSyncRunaway' });
}
