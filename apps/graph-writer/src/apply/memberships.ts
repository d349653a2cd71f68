import { CanopyError, RetriableError } from '@canopy/errors';
import { isOutcomeUncertain } from '../graph/graph-errors.js';
import { query } from '../graph/graph-client.js';
import { sleep } from '../rate/sleep.js';
import { chunk, diffMembers } from '../state/applied-state.js';
import { SCAN_THRESHOLD } from '../state/anchor-index.js';
import type { ApplyContext, OpRun } from './apply-context.js';

/**
 * Group membership: the desired member anchors are resolved to Entra ids and diffed against the
 * members last applied (or read from Graph when that is unknown). Adds go 20 to a write with
 * PATCH members@odata.bind; removes are one DELETE members/{id}/$ref each. A member whose object
 * is not in Entra yet (not created, or not replicated: 404) is retried with backoff, a bounded
 * number of times, and then reported in the result; never dropped silently.
 */
export const MEMBERS_PER_WRITE = 20;

export interface MembershipOutcome {
  added: number;
  removed: number;
  /** Member anchors still not in Entra after the retries. */
  pending: string[];
  /** Members left out because Graph cannot hold them (contacts, mail-enabled groups). */
  unwritable?: number;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Resolve member anchors to ids: cache first (one round trip), then Graph for the misses. */
export async function resolveMembers(ctx: ApplyContext, anchors: string[], fresh: boolean): Promise<{ ids: Map<string, string>; missing: string[] }> {
  const ids = new Map<string, string>();
  let misses = anchors;
  if (!fresh) {
    const [users, groups] = await Promise.all([ctx.anchors.cachedMany('user', anchors), ctx.anchors.cachedMany('group', anchors)]);
    misses = [];
    anchors.forEach((a, i) => {
      const id = users[i] ?? groups[i];
      if (id) ids.set(a, id);
      else misses.push(a);
    });
  }
  if (misses.length > SCAN_THRESHOLD) {
    // Many unknown members (a cold cache, or an initial sync): one scan of the tenant, then
    // whoever it did not find is missing, without a lookup each.
    const live = await ctx.anchors.scanAll();
    const missing: string[] = [];
    for (const a of misses) {
      const id = live.user.get(a) ?? live.group.get(a);
      if (id) ids.set(a, id);
      else missing.push(a);
    }
    return { ids, missing };
  }
  const found = await mapLimit(misses, 8, (a) => ctx.anchors.resolveMember(a, true));
  const missing: string[] = [];
  misses.forEach((a, i) => {
    const id = found[i];
    if (id) ids.set(a, id);
    else missing.push(a);
  });
  return { ids, missing };
}

async function readMembers(ctx: ApplyContext, groupId: string): Promise<string[]> {
  const rows = await ctx.reader.all<{ id: string }>(`/groups/${groupId}/members${query({ $select: 'id', $top: 999 })}`);
  const ids = rows.map((r) => r.id);
  await ctx.applied.replaceMembers(groupId, ids);
  return ids;
}

export async function applyMemberships(
  ctx: ApplyContext,
  run: OpRun,
  groupId: string,
  desiredAnchors: string[],
  options: { current?: string[]; memberSetKnown: boolean },
): Promise<MembershipOutcome> {
  const settings = ctx.settings();
  // Contacts and mail-enabled groups cannot be members in Entra (Graph cannot hold them): left out.
  const all = [...new Set(desiredAnchors)];
  const unwritable = await ctx.applied.unwritable(all);
  const unique = all.filter((a) => !unwritable.has(a));
  // Members come from the anchor cache even on a fresh run (a retry): a stale id is caught by the
  // 404 of its add below and looked up again, while a fresh lookup of every member of a large
  // group would cost one Graph read per member on every retry.
  const { ids, missing } = await resolveMembers(ctx, unique, false);

  let current: Set<string>;
  if (options.current) current = new Set(options.current);
  else if (options.memberSetKnown && !run.fresh) current = new Set(await ctx.applied.members(groupId));
  else current = new Set(await readMembers(ctx, groupId));

  const out: MembershipOutcome = { added: 0, removed: 0, pending: [], unwritable: unwritable.size };
  const desiredIds = new Set(ids.values());
  const { add, remove } = diffMembers(desiredIds, current);
  // A member not resolved yet may already be in the group (added earlier): keep what is there
  // unless it is really gone from the desired set, which only resolved anchors can tell.
  const anchorOfId = new Map([...ids].map(([a, id]) => [id, a]));

  const stillMissing = new Set<string>(missing);
  const removeCandidates = remove;

  // ---- adds, 20 per write --------------------------------------------------------------
  const addIds = async (toAdd: string[]): Promise<void> => {
    await Promise.all(
      chunk(toAdd, MEMBERS_PER_WRITE).map(async (part) => {
        let batch = part;
        for (let round = 0; batch.length && round < 4; round++) {
          try {
            await ctx.executor.submit(
              {
                method: 'PATCH',
                path: `/groups/${groupId}`,
                body: { 'members@odata.bind': batch.map((id) => ctx.graph.url(`/directoryObjects/${id}`)) },
                idempotent: false,
              },
              run.meter,
            );
            await ctx.applied.addMembers(groupId, batch);
            out.added += batch.length;
            return;
          } catch (err) {
            const status = err instanceof CanopyError ? err.details.httpStatus : null;
            const alreadyThere = status === 400 && /already exist/i.test((err as Error).message);
            if (alreadyThere || isOutcomeUncertain(err)) {
              // Someone (or our own unanswered write) added some of them: read the truth, add the rest.
              const now = new Set(await readMembers(ctx, groupId));
              batch = batch.filter((id) => !now.has(id));
              continue;
            }
            if (status === 404) {
              // A member is gone or not replicated yet: find which, keep them for later.
              const exists = await mapLimit(batch, 8, async (id) => !!(await ctx.reader.find(`/directoryObjects/${id}${query({ $select: 'id' })}`)));
              const gone = batch.filter((_, i) => !exists[i]);
              for (const id of gone) {
                const a = anchorOfId.get(id);
                if (a) stillMissing.add(a);
              }
              batch = batch.filter((_, i) => exists[i]);
              continue;
            }
            throw err;
          }
        }
        // Still refused after a few rounds: report them rather than lose them.
        for (const id of batch) stillMissing.add(anchorOfId.get(id) ?? id);
      }),
    );
  };
  await addIds(add);

  // ---- removes, one write each ---------------------------------------------------------
  await Promise.all(
    removeCandidates.map(async (id) => {
      try {
        await ctx.executor.submit({ method: 'DELETE', path: `/groups/${groupId}/members/${id}/$ref`, idempotent: true }, run.meter);
      } catch (err) {
        if (!(err instanceof CanopyError && err.details.httpStatus === 404)) throw err;
      }
      await ctx.applied.removeMembers(groupId, [id]);
      out.removed++;
    }),
  );

  // ---- members not in Entra yet: bounded retries with backoff ----------------------------
  for (let attempt = 0; stillMissing.size && attempt < settings.memberRetries; attempt++) {
    await sleep(settings.memberBackoffMs * 2 ** attempt);
    for (const a of await ctx.applied.unwritable([...stillMissing])) stillMissing.delete(a); // skipped meanwhile
    if (!stillMissing.size) break;
    const again = await resolveMembers(ctx, [...stillMissing], true);
    const nowThere = new Set(await ctx.applied.members(groupId));
    const toAdd: string[] = [];
    for (const [a, id] of again.ids) {
      stillMissing.delete(a);
      anchorOfId.set(id, a);
      if (!nowThere.has(id)) toAdd.push(id);
    }
    if (toAdd.length) await addIds(toAdd);
  }
  // Still missing: the group waits for them. When such an object is created, the writer adds it
  // to the waiting groups at once (see addToWaitingGroups). Re-check after registering, so an
  // object created meanwhile is not missed by both sides.
  for (const a of stillMissing) await ctx.applied.addWaiting(a, groupId);
  if (stillMissing.size) {
    const late = await resolveMembers(ctx, [...stillMissing], false);
    if (late.ids.size) {
      const nowThere = new Set(await ctx.applied.members(groupId));
      const toAdd: string[] = [];
      for (const [a, id] of late.ids) {
        stillMissing.delete(a);
        anchorOfId.set(id, a);
        if (!nowThere.has(id)) toAdd.push(id);
      }
      if (toAdd.length) await addIds(toAdd);
      // Only the ones that made it stop waiting; a 404 again (not replicated yet) keeps it waiting.
      for (const a of late.ids.keys()) if (!stillMissing.has(a)) await ctx.applied.doneWaiting(a, groupId);
    }
  }
  out.pending = [...stillMissing].sort();
  return out;
}

/**
 * An object just written (created, restored, found or unchanged): add it to the groups that were
 * waiting for it (their op reported it as not in Entra yet). Returns how many groups it joined.
 *
 * A 404 on the add means the new member is not replicated yet (Graph's eventual consistency) or
 * the group is gone: the add is tried again until the replication wait is over; a group that is
 * still unreadable then while the member is readable is gone and stops waiting. A group the
 * object could not join (5xx, no answer, still 404) stays waiting and the op fails retriably, so
 * its retry adds it: no other op would (the group's op is done). Never counted as joined unless
 * Graph took the add.
 */
export async function addToWaitingGroups(ctx: ApplyContext, run: OpRun, anchor: string, id: string): Promise<number> {
  const groups = await ctx.applied.waitingGroups(anchor);
  let joined = 0;
  const failed: string[] = [];
  for (const groupId of groups) {
    const how = await joinWaitingGroup(ctx, run, anchor, groupId, id);
    if (how === 'failed') {
      failed.push(groupId);
      continue;
    }
    if (how === 'joined') {
      await ctx.applied.addMembers(groupId, [id]);
      joined++;
    }
    await ctx.applied.doneWaiting(anchor, groupId);
  }
  if (failed.length) {
    throw new RetriableError(`could not add the object to ${failed.length} group(s) waiting for it (${failed.join(', ')}); the op is retried`, {
      type: 'Writer.WaitingGroup',
      details: { httpStatus: null, code: null, attribute: 'members' },
    });
  }
  return joined;
}

async function joinWaitingGroup(ctx: ApplyContext, run: OpRun, anchor: string, groupId: string, id: string): Promise<'joined' | 'gone' | 'failed'> {
  const until = Date.now() + ctx.settings().replicationWaitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      await ctx.executor.submit(
        { method: 'PATCH', path: `/groups/${groupId}`, body: { 'members@odata.bind': [ctx.graph.url(`/directoryObjects/${id}`)] }, idempotent: false, addsMemberTo: groupId },
        run.meter,
      );
      return 'joined';
    } catch (err) {
      const status = err instanceof CanopyError ? err.details.httpStatus : null;
      if (status === 400 && /already exist/i.test((err as Error).message)) return 'joined';
      if (status !== 404) {
        ctx.log.warn({ anchor, groupId, err: (err as Error).message }, 'could not add a member to a group waiting for it; the op is retried');
        return 'failed';
      }
      if (Date.now() >= until) {
        const [member, group] = await Promise.all([
          ctx.reader.find(`/directoryObjects/${id}${query({ $select: 'id' })}`),
          ctx.reader.find(`/groups/${groupId}${query({ $select: 'id' })}`),
        ]);
        if (member && !group) return 'gone';
        ctx.log.warn({ anchor, groupId, memberReadable: !!member, groupReadable: !!group }, 'a group waiting for a member still answers 404 to its add; the op is retried');
        return 'failed';
      }
      await sleep(Math.min(1000, 100 * 2 ** attempt, Math.max(0, until - Date.now())));
    }
  }
}
