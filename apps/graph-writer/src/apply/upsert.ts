import { randomInt } from 'node:crypto';
import type { EntraOperation, GraphValue } from '@canopy/contracts';
import { CanopyError, ConflictError, RetriableError } from '@canopy/errors';
import { isSyncOnly } from '@canopy/sync-rules';
import { odataString, query } from '../graph/graph-client.js';
import { isOutcomeUncertain } from '../graph/graph-errors.js';
import { sleep } from '../rate/sleep.js';
import type { EntraKind } from '../state/anchor-index.js';
import { desiredStateHash, diffProperties, type AppliedRecord } from '../state/applied-state.js';
import { CONTACT_SKIP, MAIL_GROUP_SKIP, kindOf, type ApplyContext, type ApplyOutcome, type OpRun } from './apply-context.js';
import { addToWaitingGroups, applyMemberships, MEMBERS_PER_WRITE, resolveMembers } from './memberships.js';

/**
 * UPSERT by anchor: find the target (anchor index, then Graph; then deletedItems, restoring a
 * soft-deleted object; then a soft match on UPN / primary SMTP when allowed), then PATCH only the
 * properties that differ, or create. An unchanged op (same desired-state hash) costs nothing.
 */

/** A strong random password nobody receives (the user signs in with SSO or after a reset). */
export function randomPassword(length = 32): string {
  const sets = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '!#%+-=?@^_~'];
  const all = sets.join('');
  const chars = sets.map((s) => s[randomInt(s.length)]!);
  while (chars.length < length) chars.push(all[randomInt(all.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

const NICK_BAD = /[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]/g;

export function mailNicknameFrom(value: string): string {
  const cleaned = value.split('@')[0]!.replace(NICK_BAD, '').slice(0, 64);
  return cleaned || `canopy${randomInt(1e9)}`;
}

/**
 * Split an op's properties: what Graph may be sent, and what it refuses (sync-only properties
 * such as proxyAddresses and onPremises* facts, set only by Microsoft's own sync engines).
 */
export function writableProperties(op: EntraOperation): { writable: Record<string, GraphValue>; dropped: string[] } {
  const writable: Record<string, GraphValue> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(op.properties)) {
    if (isSyncOnly(k)) dropped.push(k);
    else writable[k] = v;
  }
  if (op.targetType === 'USER') writable.onPremisesImmutableId = op.sourceAnchor;
  return { writable, dropped: dropped.sort() };
}

function collection(kind: EntraKind): string {
  return kind === 'user' ? 'users' : 'groups';
}

export async function applyUpsert(ctx: ApplyContext, run: OpRun): Promise<ApplyOutcome> {
  const { op } = run;
  const kind = kindOf(op);
  // Not writable: remembered, so groups holding it as a member neither look it up nor wait for it.
  if (!kind) {
    await ctx.applied.markUnwritable(op.sourceAnchor);
    return { outcome: 'SKIPPED', entraId: null, reason: CONTACT_SKIP, changedProperties: [] };
  }
  if (kind === 'group') {
    const types = (op.properties.groupTypes as string[] | null | undefined) ?? [];
    if ((op.properties.mailEnabled === true || op.properties.securityEnabled === false) && !types.includes('Unified')) {
      await ctx.applied.markUnwritable(op.sourceAnchor);
      return { outcome: 'SKIPPED', entraId: null, reason: MAIL_GROUP_SKIP, changedProperties: [] };
    }
    await ctx.applied.clearUnwritable(op.sourceAnchor);
  }
  const settings = ctx.settings();
  const hash = desiredStateHash(op);
  const applied = await ctx.applied.get(kind, op.sourceAnchor);
  if (!run.fresh && applied && applied.h === hash && !applied.d) {
    // Unchanged, but a group may still wait for it (a retry after Writer.WaitingGroup, a replay).
    const joined = await addToWaitingGroups(ctx, run, op.sourceAnchor, applied.id);
    const reason = joined ? `unchanged since last applied; added to ${joined} group(s) that were waiting for it` : 'unchanged since last applied';
    return { outcome: joined ? 'UPDATED' : 'NOOP', entraId: applied.id, reason, changedProperties: joined ? ['memberOf'] : [] };
  }

  const { writable, dropped } = writableProperties(op);
  const notes: string[] = [];
  if (dropped.length) notes.push(`not writable through Graph (set only by Microsoft's sync): ${dropped.join(', ')}`);
  const createOnly = new Set(op.createOnly);

  // ---- find the target -----------------------------------------------------------------
  let id = await ctx.anchors.resolve(kind, op.sourceAnchor, { fresh: run.fresh });
  const creatingSince = await ctx.anchors.creatingSince(kind, op.sourceAnchor);
  let createdByUs = false;
  if (!id && creatingSince !== undefined) {
    // Our earlier create got no answer: wait out Graph's replication before creating again.
    const until = creatingSince + settings.replicationWaitMs;
    while (!id && Date.now() < until) {
      await sleep(Math.min(1000, until - Date.now()));
      id = await ctx.anchors.resolve(kind, op.sourceAnchor, { fresh: true });
    }
  }
  if (id && creatingSince !== undefined) {
    createdByUs = true;
    await ctx.anchors.clearCreating(kind, op.sourceAnchor);
  }

  let restored = false;
  let softMatched: string | undefined;
  const desired: Record<string, GraphValue> = {};
  for (const [k, v] of Object.entries(writable)) if (!createOnly.has(k)) desired[k] = v;
  if (kind === 'group') desired[settings.anchorProperty] = op.sourceAnchor;
  /** Set when the restore sequence already patched the properties: [changed names, values before]. */
  let prePatched: { changed: string[]; before: Record<string, unknown> } | undefined;
  if (!id) {
    const deleted = await ctx.anchors.lookupDeleted(kind, op.sourceAnchor);
    if (deleted) {
      prePatched = await restore(ctx, run, kind, deleted.id, op, desired);
      id = deleted.id;
      restored = true;
      await ctx.anchors.set(kind, op.sourceAnchor, id);
    }
  }
  let uniquePicked = false;
  if (!id && Object.keys(op.uniqueCandidates).length) {
    // SelectUniqueValue decides the values first; matching then uses what would be written.
    await pickUniqueValues(ctx, kind, op, writable, undefined, undefined);
    uniquePicked = true;
  }
  if (!id && kind === 'user') {
    const match = await softMatch(ctx, op, writable);
    if (match) {
      if (!settings.softMatch) {
        throw new ConflictError(
          `an existing cloud user (${match.id}) has the same ${match.on}; soft match is off (matching.softMatch): link it by hand (set its onPremisesImmutableId) or turn soft match on`,
          { type: 'Writer.SoftMatchBlocked', details: { httpStatus: null, code: 'SoftMatchBlocked', attribute: match.on } },
        );
      }
      id = match.id;
      softMatched = match.on;
    }
  }

  // ---- create ------------------------------------------------------------------------
  if (!id) return create(ctx, run, kind, writable, hash, notes, uniquePicked);

  // ---- update ------------------------------------------------------------------------
  const useApplied = !run.fresh && !restored && !softMatched && applied && applied.id === id && !applied.d;
  let current: Record<string, unknown>;
  if (prePatched) current = prePatched.before;
  else if (useApplied) current = applied.p;
  else current = await readCurrent(ctx, kind, id, Object.keys(desired));
  if (!prePatched) await pickUniqueValues(ctx, kind, op, desired, current, id);
  const changed = prePatched ? prePatched.changed : diffProperties(desired, current);
  if (changed.length && !prePatched) {
    const body: Record<string, GraphValue> = {};
    for (const k of changed) body[k] = desired[k]!;
    try {
      await ctx.executor.submit({ method: 'PATCH', path: `/${collection(kind)}/${id}`, body, idempotent: true }, run.meter);
    } catch (err) {
      if (err instanceof CanopyError && err.details.httpStatus === 404) {
        // The cached id is gone (deleted in the cloud): forget it and start over from Graph.
        await ctx.anchors.forget(kind, op.sourceAnchor);
        throw new RetriableError(`object ${id} of anchor ${op.sourceAnchor} no longer exists; looking it up again`, { type: 'Writer.StaleAnchor', details: { httpStatus: 404, code: null, attribute: null } });
      }
      throw err;
    }
  }
  const record: AppliedRecord = { h: hash, id, p: { ...(useApplied ? applied.p : pick(current, Object.keys(desired))), ...desired }, m: applied?.m ?? false };

  let membership = { added: 0, removed: 0, pending: [] as string[] };
  if (kind === 'group' && op.members) {
    membership = await applyMemberships(ctx, run, id, op.members, { memberSetKnown: !!(useApplied && applied?.m) });
    record.m = true;
  }
  if (membership.pending.length) {
    record.h = null; // not fully applied: the next op (or a replay) tries again
    notes.push(pendingNote(membership.pending));
  }
  await ctx.applied.set(kind, op.sourceAnchor, record);
  const joined = await addToWaitingGroups(ctx, run, op.sourceAnchor, id);
  if (joined) notes.push(`added to ${joined} group(s) that were waiting for it`);

  const changedProperties = [...changed, ...(membership.added || membership.removed ? ['members'] : [])];
  if (softMatched) notes.unshift(`soft-matched an existing cloud user on ${softMatched}`);
  if (restored) notes.unshift('restored from deleted items (within 30 days of deletion)');
  if (createdByUs) notes.unshift('created (confirmed by lookup after an unanswered create)');
  if (membership.added || membership.removed) notes.push(`members: +${membership.added} -${membership.removed}`);
  const outcome = restored ? 'RESTORED' : createdByUs ? 'CREATED' : changedProperties.length || softMatched ? 'UPDATED' : 'NOOP';
  return { outcome, entraId: id, reason: notes.length ? notes.join('; ') : null, changedProperties };
}

function pendingNote(pending: string[]): string {
  const shown = pending.slice(0, 50).join(', ');
  return `${pending.length} member(s) not in Entra yet, retried and still missing (each is added to the group as soon as the writer writes its object): ${shown}${pending.length > 50 ? ', ...' : ''}`;
}

function pick(obj: Record<string, unknown>, keys: string[]): Record<string, GraphValue> {
  const out: Record<string, GraphValue> = {};
  for (const k of keys) out[k] = (obj[k] ?? null) as GraphValue;
  return out;
}

async function readCurrent(ctx: ApplyContext, kind: EntraKind, id: string, props: string[]): Promise<Record<string, unknown>> {
  const select = [...new Set(['id', ...props.filter((p) => !p.includes('.'))])].join(',');
  const obj = await ctx.reader.find<Record<string, unknown>>(`/${collection(kind)}/${id}${query({ $select: select })}`);
  if (!obj) throw new RetriableError(`object ${id} not readable yet (replication)`, { type: 'Writer.NotReplicated', details: { httpStatus: 404, code: null, attribute: null } });
  return obj;
}

/**
 * Restore a soft-deleted object and patch what changed while it was gone, in one batch: the PATCH
 * depends on the restore (dependsOn), so Graph runs them in order. Returns what was patched, or
 * undefined when an earlier attempt had restored it already (the caller then diffs and patches).
 */
async function restore(
  ctx: ApplyContext,
  run: OpRun,
  kind: EntraKind,
  id: string,
  op: EntraOperation,
  desired: Record<string, GraphValue>,
): Promise<{ changed: string[]; before: Record<string, unknown> } | undefined> {
  const before = (await ctx.reader.find<Record<string, unknown>>(`/directory/deletedItems/${id}`)) ?? {};
  await pickUniqueValues(ctx, kind, op, desired, before, id);
  const changed = diffProperties(desired, before);
  const body: Record<string, GraphValue> = {};
  for (const k of changed) body[k] = desired[k]!;
  try {
    await ctx.executor.submitSequence(
      [
        { method: 'POST', path: `/directory/deletedItems/${id}/restore`, idempotent: true },
        ...(changed.length ? [{ method: 'PATCH' as const, path: `/${collection(kind)}/${id}`, body, idempotent: true }] : []),
      ],
      run.meter,
    );
    return { changed, before };
  } catch (err) {
    // Already restored by an earlier attempt whose answer was lost: fine, diff and patch as usual.
    if (err instanceof CanopyError && err.details.httpStatus === 404) {
      const live = await ctx.reader.find(`/${collection(kind)}/${id}${query({ $select: 'id' })}`);
      if (live) return undefined;
    }
    throw err;
  }
}

/** SelectUniqueValue: keep the current value if it is a candidate, else the first one not taken. */
async function pickUniqueValues(
  ctx: ApplyContext,
  kind: EntraKind,
  op: EntraOperation,
  desired: Record<string, GraphValue>,
  current: Record<string, unknown> | undefined,
  selfId: string | undefined,
): Promise<void> {
  for (const [prop, candidates] of Object.entries(op.uniqueCandidates)) {
    if (!candidates.length || !(prop in desired || prop in op.properties)) continue;
    const cur = current?.[prop];
    if (typeof cur === 'string' && candidates.some((c) => c.toLowerCase() === cur.toLowerCase())) {
      desired[prop] = cur;
      continue;
    }
    let chosen: string | undefined;
    for (const c of candidates) {
      const res = await ctx.reader.get<{ value: Array<{ id: string }> }>(`/${collection(kind)}${query({ $filter: `${prop} eq ${odataString(c)}`, $select: 'id' })}`);
      if (!res.value.some((o) => o.id !== selfId)) {
        chosen = c;
        break;
      }
    }
    if (!chosen) {
      throw new ConflictError(`every candidate value for ${prop} is taken in the tenant (${candidates.join(', ')}); add candidates to the mapping or free one`, {
        type: 'Graph.Conflict',
        details: { httpStatus: null, code: 'NoUniqueValue', attribute: prop },
      });
    }
    desired[prop] = chosen;
  }
}

interface SoftMatchCandidate {
  id: string;
  on: string;
}

/** Connect's soft match: an unlinked cloud user with the same UPN or primary SMTP address. */
async function softMatch(ctx: ApplyContext, op: EntraOperation, writable: Record<string, GraphValue>): Promise<SoftMatchCandidate | undefined> {
  const tries: Array<{ on: string; filter: string; advanced: boolean }> = [];
  const upn = writable.userPrincipalName;
  if (typeof upn === 'string' && upn) tries.push({ on: 'userPrincipalName', filter: `userPrincipalName eq ${odataString(upn)}`, advanced: false });
  const mail = typeof writable.mail === 'string' && writable.mail ? writable.mail : primarySmtp(op.properties.proxyAddresses);
  if (mail) tries.push({ on: 'proxyAddresses', filter: `proxyAddresses/any(p:p eq ${odataString(`SMTP:${mail}`)})`, advanced: true });
  for (const t of tries) {
    const res = await ctx.reader.get<{ value: Array<{ id: string; onPremisesImmutableId?: string | null; userPrincipalName?: string }> }>(
      `/users${query({ $filter: t.filter, $select: 'id,onPremisesImmutableId,userPrincipalName', ...(t.advanced ? { $count: 'true' } : {}) })}`,
      t.advanced ? { ConsistencyLevel: 'eventual' } : undefined,
    );
    const hit = res.value[0];
    if (!hit) continue;
    if (hit.onPremisesImmutableId && hit.onPremisesImmutableId !== op.sourceAnchor) {
      throw new ConflictError(
        `cloud user ${hit.userPrincipalName ?? hit.id} has the same ${t.on} but is linked to another on-premises object (onPremisesImmutableId ${hit.onPremisesImmutableId}); fix the duplicate in AD or in the cloud`,
        { type: 'Graph.Conflict', details: { httpStatus: null, code: 'SoftMatchLinkedElsewhere', attribute: t.on } },
      );
    }
    const role = await adminRoleOf(ctx, hit.id);
    if (role) {
      throw new ConflictError(
        `refusing to soft-match cloud user ${hit.userPrincipalName ?? hit.id} on ${t.on}: it holds an administrator role (${role}); taking it over could hand an on-premises account cloud admin rights. Remove the role, or link the accounts by hand`,
        { type: 'Writer.SoftMatchAdmin', details: { httpStatus: null, code: 'SoftMatchAdminRole', attribute: t.on } },
      );
    }
    return { id: hit.id, on: t.on };
  }
  return undefined;
}

function primarySmtp(proxyAddresses: GraphValue | undefined): string | undefined {
  if (!Array.isArray(proxyAddresses)) return undefined;
  const p = proxyAddresses.find((a) => a.startsWith('SMTP:'));
  return p?.slice(5);
}

/** The admin role a user holds (directly, or through a role-assignable group), if any. */
async function adminRoleOf(ctx: ApplyContext, userId: string): Promise<string | undefined> {
  const rows = await ctx.reader.all<{ '@odata.type'?: string; displayName?: string; isAssignableToRole?: boolean | null }>(`/users/${userId}/memberOf`);
  for (const r of rows) {
    if (r['@odata.type'] === '#microsoft.graph.directoryRole') return r.displayName ?? 'directory role';
    if (r['@odata.type'] === '#microsoft.graph.group' && r.isAssignableToRole === true) return `member of role-assignable group ${r.displayName ?? ''}`.trim();
  }
  return undefined;
}

async function create(
  ctx: ApplyContext,
  run: OpRun,
  kind: EntraKind,
  writable: Record<string, GraphValue>,
  hash: string,
  notes: string[],
  uniquePicked: boolean,
): Promise<ApplyOutcome> {
  const { op } = run;
  const settings = ctx.settings();
  const body: Record<string, unknown> = { ...writable };
  if (!uniquePicked) await pickUniqueValues(ctx, kind, op, body as Record<string, GraphValue>, undefined, undefined);
  let inline: string[] = [];
  if (kind === 'user') {
    body.accountEnabled = writable.accountEnabled ?? true;
    body.displayName = writable.displayName ?? writable.userPrincipalName;
    body.mailNickname = writable.mailNickname ?? mailNicknameFrom(String(writable.userPrincipalName ?? op.sourceAnchor));
    body.passwordProfile = { password: randomPassword(), forceChangePasswordNextSignIn: true };
  } else {
    body.displayName = writable.displayName ?? op.dn;
    body.mailNickname = writable.mailNickname ?? mailNicknameFrom(String(body.displayName));
    body.mailEnabled = false;
    body.securityEnabled = true;
    body.groupTypes = writable.groupTypes ?? [];
    body[settings.anchorProperty] = op.sourceAnchor;
    if (op.members?.length) {
      // The first 20 members ride on the create: one write fewer.
      const first = [...new Set(op.members)].slice(0, MEMBERS_PER_WRITE);
      const { ids } = await resolveMembers(ctx, first, false);
      inline = [...ids.values()];
      if (inline.length) body['members@odata.bind'] = inline.map((m) => ctx.graph.url(`/directoryObjects/${m}`));
    }
  }
  for (const [k, v] of Object.entries(body)) if (v === null) delete body[k];

  await ctx.anchors.markCreating(kind, op.sourceAnchor);
  let created: { id: string };
  try {
    const res = await ctx.executor.submit({ method: 'POST', path: `/${collection(kind)}`, body, idempotent: false }, run.meter);
    created = res.body as { id: string };
  } catch (err) {
    if (inline.length && err instanceof CanopyError && err.details.httpStatus === 404) {
      // A member is not replicated yet: create without members; they follow in the member pass.
      await ctx.anchors.clearCreating(kind, op.sourceAnchor);
      delete body['members@odata.bind'];
      inline = [];
      const res = await ctx.executor.submit({ method: 'POST', path: `/${collection(kind)}`, body, idempotent: false }, run.meter);
      created = res.body as { id: string };
    } else {
      if (!isOutcomeUncertain(err)) await ctx.anchors.clearCreating(kind, op.sourceAnchor);
      throw err;
    }
  }
  const id = created.id;
  await ctx.anchors.set(kind, op.sourceAnchor, id);
  await ctx.anchors.clearCreating(kind, op.sourceAnchor);
  const p: Record<string, GraphValue> = {};
  for (const [k, v] of Object.entries(body)) if (k !== 'passwordProfile' && !k.includes('@odata')) p[k] = v as GraphValue;
  const record: AppliedRecord = { h: hash, id, p, m: kind === 'group' };
  if (kind === 'group') await ctx.applied.replaceMembers(id, inline);
  let membership = { added: inline.length, removed: 0, pending: [] as string[] };
  if (kind === 'group' && op.members) {
    const more = await applyMemberships(ctx, { ...run, fresh: false }, id, op.members, { current: inline, memberSetKnown: true });
    membership = { added: inline.length + more.added, removed: more.removed, pending: more.pending };
  }
  if (membership.pending.length) {
    record.h = null;
    notes.push(pendingNote(membership.pending));
  }
  await ctx.applied.set(kind, op.sourceAnchor, record);
  if (membership.added) notes.push(`members: +${membership.added}`);
  const joined = await addToWaitingGroups(ctx, run, op.sourceAnchor, id);
  if (joined) notes.push(`added to ${joined} group(s) that were waiting for it`);
  const changedProperties = Object.keys(body).filter((k) => k !== 'passwordProfile' && !k.includes('@odata')).sort();
  if (membership.added) changedProperties.push('members');
  return { outcome: 'CREATED', entraId: id, reason: notes.length ? notes.join('; ') : null, changedProperties };
}
