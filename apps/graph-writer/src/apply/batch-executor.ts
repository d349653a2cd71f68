import { CanopyError, RetriableError } from '@canopy/errors';
import type { Logger } from '@canopy/logger';
import type { GraphClient, GraphHttpResponse } from '../graph/graph-client.js';
import { classifyGraphResponse, classifyTransportError } from '../graph/graph-errors.js';
import { MAX_BATCH, type AcquireResult, type WriteQuota } from '../rate/write-quota.js';
import type { ThrottleGate } from '../rate/throttle-gate.js';

/**
 * Every Graph write goes through here. Requests from many ops are packed into `$batch` calls of
 * at most 20 (a batch adds no quota but saves round trips); each batch takes one write per
 * request from the shared write quota before it is sent, and settles that grant once answered.
 * Graph answers every item on its own: items that succeeded are done, items that were throttled
 * or hit a transient error are sent again (alone, in a later batch), a 429 pauses every replica
 * for its Retry-After.
 *
 * A *sequence* (e.g. restore, then patch the restored object) stays in one batch, chained with
 * dependsOn, so Graph runs it in order; if an item fails, the rest of the sequence is retried or
 * failed with it.
 *
 * A write with an uncertain outcome (the batch got no answer, timed out, or a create got a 5xx) is
 * not retried here unless it is idempotent: the caller looks the object up before trying again.
 */
export interface WriteRequest {
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path below the version: /users, /groups/{id}, /groups/{id}/members/{mid}/$ref */
  path: string;
  body?: unknown;
  /** Safe to send twice (PATCH of properties, DELETE treated as done on 404 by the caller). */
  idempotent: boolean;
  /**
   * Set on a PATCH that adds one member (`members@odata.bind` of one URL) to this group: while it
   * waits in the queue (for the quota, mostly), adds to the same group join it, up to 20 in one
   * write. A merged write that fails is split, and each add is sent alone, so every caller gets
   * its own member's answer.
   */
  addsMemberTo?: string;
}

/** Counts writes spent on behalf of one op (retries included). */
export interface WriteMeter {
  writes: number;
}

export interface ItemResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

interface Unit {
  items: WriteRequest[];
  /** Results of the items already done (a retried sequence keeps them). */
  done: ItemResult[];
  attempts: number;
  notBefore: number;
  meter: WriteMeter | undefined;
  resolve: (results: ItemResult[]) => void;
  reject: (err: CanopyError) => void;
  lastError?: CanopyError;
  /** A member add open to merging (see WriteRequest.addsMemberTo): the adds it carries. */
  merge?: { group: string; parts: MergedPart[] };
}

interface MergedPart {
  request: WriteRequest;
  meter: WriteMeter | undefined;
  resolve: (results: ItemResult[]) => void;
  reject: (err: CanopyError) => void;
}

const MEMBERS_BIND = 'members@odata.bind';

/** The one member URL of a single-member add. */
function boundMember(req: WriteRequest): string {
  const list = (req.body as Record<string, unknown> | undefined)?.[MEMBERS_BIND];
  if (!Array.isArray(list) || list.length !== 1 || typeof list[0] !== 'string') throw new Error(`addsMemberTo needs a PATCH with one ${MEMBERS_BIND} URL`);
  return list[0];
}

/**
 * Pack units (sequences of requests) into batches of at most `max` requests, first in first out,
 * never splitting a sequence; units not yet due (notBefore > now) wait. Pure: unit-tested.
 */
export function packBatches<T extends { items: unknown[]; notBefore: number }>(queue: T[], now: number, max = MAX_BATCH, maxBatches = Infinity): { batches: T[][]; rest: T[] } {
  const batches: T[][] = [];
  const rest: T[] = [];
  let current: T[] = [];
  let size = 0;
  for (const u of queue) {
    if (u.notBefore > now || batches.length >= maxBatches) {
      rest.push(u);
      continue;
    }
    if (u.items.length > max) throw new Error(`a sequence of ${u.items.length} requests cannot fit in one batch of ${max}`);
    if (size + u.items.length > max) {
      batches.push(current);
      current = [];
      size = 0;
      if (batches.length >= maxBatches) {
        rest.push(u);
        continue;
      }
    }
    current.push(u);
    size += u.items.length;
  }
  if (current.length) batches.push(current);
  return { batches, rest };
}

/** The $batch request body for packed units: ids are unique, sequences chained with dependsOn. */
export function batchBody(units: Array<{ items: WriteRequest[] }>): { requests: Array<Record<string, unknown>>; index: Array<[number, number]> } {
  const requests: Array<Record<string, unknown>> = [];
  const index: Array<[number, number]> = [];
  units.forEach((u, ui) => {
    u.items.forEach((it, ii) => {
      const id = String(requests.length + 1);
      const req: Record<string, unknown> = { id, method: it.method, url: it.path };
      if (it.body !== undefined) {
        req.body = it.body;
        req.headers = { 'Content-Type': 'application/json' };
      }
      if (ii > 0) req.dependsOn = [String(requests.length)];
      requests.push(req);
      index.push([ui, ii]);
    });
  });
  return { requests, index };
}

export interface BatchExecutorOptions {
  lingerMs: number;
  maxAttempts: number;
  maxInFlight: number;
  onWrites?: (n: number) => void;
  onItem?: (method: string, status: number) => void;
  onThrottled?: (retryAfterMs: number) => void;
  onTokens?: (available: number) => void;
}

export class BatchExecutor {
  #queue: Unit[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inFlight = 0;
  #stopped = false;
  readonly #abort = new AbortController();

  constructor(
    private readonly graph: GraphClient,
    private readonly quota: WriteQuota,
    private readonly gate: ThrottleGate,
    private readonly options: BatchExecutorOptions,
    private readonly log: Logger,
  ) {}

  /** One write. Resolves with its 2xx answer; rejects with a classified error. */
  async submit(req: WriteRequest, meter?: WriteMeter): Promise<ItemResult> {
    const [r] = await this.submitSequence([req], meter);
    return r!;
  }

  /** Writes that must run in order, in one batch (dependsOn). */
  submitSequence(items: WriteRequest[], meter?: WriteMeter): Promise<ItemResult[]> {
    if (this.#stopped) return Promise.reject(new RetriableError('writer is stopping', { type: 'Writer.Stopping' }));
    if (items.length === 0) return Promise.resolve([]);
    if (items.length === 1 && items[0]!.addsMemberTo) return this.#submitMemberAdd(items[0]!, meter);
    return new Promise((resolve, reject) => {
      this.#queue.push({ items, done: [], attempts: 0, notBefore: 0, meter, resolve, reject });
      this.#schedule();
    });
  }

  /** Member adds merged so far (adds that rode in another add's write), for measurements. */
  merged = 0;

  #submitMemberAdd(req: WriteRequest, meter?: WriteMeter): Promise<ItemResult[]> {
    const url = boundMember(req);
    const group = req.addsMemberTo!;
    return new Promise((resolve, reject) => {
      const part: MergedPart = { request: req, meter, resolve, reject };
      const binds = (u: Unit) => (u.items[0]!.body as Record<string, string[]>)[MEMBERS_BIND]!;
      const waiting = this.#queue.filter((u) => u.merge?.group === group && u.attempts === 0);
      const same = waiting.find((u) => binds(u).includes(url));
      if (same) {
        // The same member asked twice: both callers get the one answer.
        same.merge!.parts.push(part);
        this.merged++;
        return;
      }
      const open = waiting.find((u) => binds(u).length < MAX_BATCH);
      if (open) {
        open.items[0] = { ...open.items[0]!, body: { [MEMBERS_BIND]: [...binds(open), url] } };
        open.merge!.parts.push(part);
        this.merged++;
        return;
      }
      const parts: MergedPart[] = [part];
      this.#queue.push({
        items: [{ method: 'PATCH', path: `/groups/${group}`, body: { [MEMBERS_BIND]: [url] }, idempotent: false }],
        done: [],
        attempts: 0,
        notBefore: 0,
        meter,
        resolve: (r) => parts.forEach((p) => p.resolve(r)),
        reject: (e) => parts.forEach((p) => p.reject(e)),
        merge: { group, parts },
      });
      this.#schedule();
    });
  }

  /** A merged add failed: send each of its adds alone, so each caller learns about its own. */
  #split(u: Unit): void {
    const byMember = new Map<string, MergedPart[]>();
    for (const p of u.merge!.parts) byMember.set(boundMember(p.request), [...(byMember.get(boundMember(p.request)) ?? []), p]);
    for (const parts of byMember.values()) {
      // Parts asking for the same member share one answer.
      const [p] = parts as [MergedPart];
      this.#queue.push({
        items: [{ ...p.request, addsMemberTo: undefined }],
        done: [],
        attempts: 0,
        notBefore: 0,
        meter: p.meter,
        resolve: (r) => parts.forEach((q) => q.resolve(r)),
        reject: (e) => parts.forEach((q) => q.reject(e)),
      });
    }
    this.#schedule(0);
  }


  get pending(): number {
    return this.#queue.reduce((n, u) => n + u.items.length, 0);
  }

  #timerAt = 0;

  #schedule(delay?: number): void {
    if (this.#stopped) return;
    const size = this.pending;
    const due = delay ?? (size >= MAX_BATCH ? 0 : this.options.lingerMs);
    const at = Date.now() + due;
    if (this.#timer) {
      // Keep the earlier of the two wake-ups (a retry far ahead must not delay new work).
      if (this.#timerAt <= at) return;
      clearTimeout(this.#timer);
    }
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, due);
  }

  #pump(): void {
    if (this.#stopped) return;
    const now = Date.now();
    const slots = this.options.maxInFlight - this.#inFlight;
    if (slots <= 0) return;
    const { batches, rest } = packBatches(this.#queue, now, MAX_BATCH, slots);
    this.#queue = rest;
    for (const b of batches) {
      this.#inFlight++;
      void this.#send(b).finally(() => {
        this.#inFlight--;
        if (this.#queue.length) this.#schedule(this.#nextDue());
      });
    }
    if (this.#queue.length && batches.length === 0) this.#schedule(this.#nextDue());
  }

  #nextDue(): number {
    const now = Date.now();
    const next = Math.min(...this.#queue.map((u) => u.notBefore));
    if (next > now) return Math.min(next - now, 60_000);
    return this.pending >= MAX_BATCH ? 0 : this.options.lingerMs;
  }

  async #send(units: Unit[]): Promise<void> {
    const { requests, index } = batchBody(units);
    let grant: AcquireResult;
    try {
      grant = await this.quota.acquire(requests.length, { signal: this.#abort.signal });
      this.options.onTokens?.(grant.available);
    } catch (err) {
      for (const u of units) u.reject(new RetriableError('writer stopped before the write was sent', { type: 'Writer.Stopping', cause: err }));
      return;
    }
    for (const u of units) if (u.meter) u.meter.writes += u.items.length;
    this.options.onWrites?.(requests.length);

    let res: GraphHttpResponse;
    try {
      res = await this.graph.request({ method: 'POST', path: '/$batch', body: { requests } });
    } catch (err) {
      // No answer: every item may or may not have been applied.
      const e = classifyTransportError(err, 'POST /$batch', true);
      for (const u of units) this.#retryOrFail(u, 0, e, true);
      return;
    } finally {
      // Graph has counted these writes by now: they stay in the quota's windows from here.
      this.quota.settle(grant).catch((err: unknown) => this.log.warn({ err: String(err) }, 'could not settle a write-quota grant'));
    }
    const envelopeError = classifyGraphResponse(res.status, res.headers, res.body, 'POST /$batch');
    if (envelopeError) {
      if (res.status === 429) await this.#throttled(envelopeError);
      for (const u of units) {
        if (envelopeError.retriable || (u.merge && u.merge.parts.length > 1)) this.#retryOrFail(u, 0, envelopeError, false);
        else u.reject(envelopeError);
      }
      return;
    }
    const responses = new Map<string, { id: string; status: number; headers?: Record<string, string>; body?: unknown }>();
    for (const r of ((res.body as { responses?: Array<{ id: string; status: number; headers?: Record<string, string>; body?: unknown }> })?.responses ?? [])) {
      responses.set(String(r.id), r);
    }
    // Walk each unit's items in order.
    let pos = 0;
    const maxRetryAfter = { ms: 0 };
    for (let ui = 0; ui < units.length; ui++) {
      const u = units[ui]!;
      let failedAt = -1;
      let failure: CanopyError | undefined;
      let uncertain = false;
      const results: ItemResult[] = [];
      for (let ii = 0; ii < u.items.length; ii++, pos++) {
        const [, itemIndex] = index[pos]!;
        const item = u.items[itemIndex]!;
        const r = responses.get(String(pos + 1));
        if (failedAt >= 0) continue;
        if (!r) {
          failedAt = ii;
          uncertain = true;
          failure = new RetriableError(`$batch answered without item ${pos + 1}`, { type: 'Graph.BatchItemMissing', details: { outcomeUncertain: true, httpStatus: null, code: null, attribute: null } });
          continue;
        }
        this.options.onItem?.(item.method, r.status);
        const headers = lowerKeys(r.headers ?? {});
        const err = classifyGraphResponse(r.status, headers, r.body, `${item.method} ${item.path.split('?')[0]}`);
        if (!err) {
          results.push({ status: r.status, headers, body: r.body });
          continue;
        }
        failedAt = ii;
        failure = err;
        if (r.status === 429) maxRetryAfter.ms = Math.max(maxRetryAfter.ms, err.nextRetryDelayMs ?? 1000);
        // A create answered 5xx may have happened all the same.
        uncertain = r.status >= 500 && item.method === 'POST';
        if (uncertain) err.details.outcomeUncertain = true;
      }
      u.done.push(...results);
      if (failedAt < 0) {
        u.resolve(u.done);
        continue;
      }
      u.items = u.items.slice(failedAt);
      this.#retryOrFail(u, 0, failure!, uncertain);
    }
    if (maxRetryAfter.ms > 0) await this.#throttled(undefined, maxRetryAfter.ms);
  }

  async #throttled(err: CanopyError | undefined, ms = err?.nextRetryDelayMs ?? 1000): Promise<void> {
    this.options.onThrottled?.(ms);
    try {
      const extended = await this.gate.pause(ms, 'graph 429');
      if (extended) this.log.warn({ retryAfterMs: ms }, 'Graph throttled (429): pausing every writer replica for Retry-After');
    } catch (e) {
      this.log.warn({ err: e }, 'could not set the shared pause in Redis');
    }
  }

  #retryOrFail(u: Unit, _start: number, err: CanopyError, uncertain: boolean): void {
    if (u.merge && u.merge.parts.length > 1 && err.type !== 'Writer.Stopping') return this.#split(u);
    u.lastError = err;
    u.attempts++;
    const head = u.items[0]!;
    if (!err.retriable || u.attempts >= this.options.maxAttempts || (uncertain && !head.idempotent)) {
      if (uncertain && !head.idempotent) err.details.outcomeUncertain = true;
      u.reject(err);
      return;
    }
    const backoff = err.nextRetryDelayMs ?? Math.min(30_000, 250 * 2 ** u.attempts);
    u.notBefore = Date.now() + backoff;
    this.#queue.push(u);
    this.#schedule(this.#nextDue());
  }

  /** Stop: queued work is rejected as retriable (its op is not committed and will be replayed). */
  stop(): void {
    this.#stopped = true;
    this.#abort.abort(new RetriableError('writer stopping', { type: 'Writer.Stopping' }));
    if (this.#timer) clearTimeout(this.#timer);
    for (const u of this.#queue.splice(0)) u.reject(new RetriableError('writer stopping', { type: 'Writer.Stopping' }));
  }
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

