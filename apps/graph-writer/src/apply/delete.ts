import { CanopyError } from '@canopy/errors';
import { desiredStateHash } from '../state/applied-state.js';
import { CONTACT_SKIP, kindOf, type ApplyContext, type ApplyOutcome, type OpRun } from './apply-context.js';

/**
 * DELETE by anchor: a soft delete (users and security groups stay restorable for 30 days, so an
 * object that comes back is restored, not recreated). No target: SKIPPED ('not in Entra'); a
 * target already in deleted items (a replay, or deleted in the cloud): DELETED with no write.
 * The accidental-delete guard runs before this (see DeleteGuard).
 */
export async function findDeleteTarget(ctx: ApplyContext, run: OpRun): Promise<{ id?: string; alreadyDeleted?: string }> {
  const kind = kindOf(run.op);
  if (!kind) return {};
  const id = await ctx.anchors.resolve(kind, run.op.sourceAnchor, { fresh: run.fresh });
  if (id) return { id };
  const deleted = await ctx.anchors.lookupDeleted(kind, run.op.sourceAnchor);
  return deleted ? { alreadyDeleted: deleted.id } : {};
}

export async function applyDelete(ctx: ApplyContext, run: OpRun, target?: { id?: string; alreadyDeleted?: string }): Promise<ApplyOutcome> {
  const { op } = run;
  const kind = kindOf(op);
  if (!kind) return { outcome: 'SKIPPED', entraId: null, reason: CONTACT_SKIP, changedProperties: [] };
  const t = target ?? (await findDeleteTarget(ctx, run));
  if (t.alreadyDeleted) {
    await ctx.anchors.forget(kind, op.sourceAnchor);
    return { outcome: 'DELETED', entraId: t.alreadyDeleted, reason: 'already in deleted items (restorable for 30 days)', changedProperties: [] };
  }
  if (!t.id) {
    await ctx.applied.clear(kind, op.sourceAnchor);
    // Keep why the object is being removed (e.g. "out of scope (ou-exclude): ... excluded"): the admin reads it.
    return { outcome: 'SKIPPED', entraId: null, reason: op.reason ? `not in Entra, nothing to delete (${op.reason})` : 'not in Entra', changedProperties: [] };
  }
  const prev = await ctx.applied.get(kind, op.sourceAnchor);
  try {
    await ctx.executor.submit({ method: 'DELETE', path: `/${kind === 'user' ? 'users' : 'groups'}/${t.id}`, idempotent: true }, run.meter);
  } catch (err) {
    // 404: gone already (our own unanswered attempt, or an admin): the effect is the same.
    if (!(err instanceof CanopyError && err.details.httpStatus === 404)) throw err;
  }
  await ctx.anchors.forget(kind, op.sourceAnchor);
  await ctx.applied.set(kind, op.sourceAnchor, { h: desiredStateHash(op), id: t.id, p: prev?.p ?? {}, d: Date.now() });
  return { outcome: 'DELETED', entraId: t.id, reason: op.reason ? `soft-deleted (restorable for 30 days): ${op.reason}` : 'soft-deleted (restorable for 30 days)', changedProperties: [] };
}
