import { randomUUID } from 'node:crypto';
import type { ForestDocument } from '@canopy/central-config';
import { guidFromString, guidToString, isGuidString, type AdObjectEvent, type ReaderCheckpoint, type SyncResult } from '@canopy/contracts';
import { CanopyError, FencedError, PermanentError, toCanopyError } from '@canopy/errors';
import type { KafkaClient, KafkaProducer } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import type { Readiness } from '@canopy/service-runtime';
import { checkpointOf, loadCheckpoints } from './checkpoint/checkpoint-store.js';
import { ChangeNotificationListener } from './ldap/change-notifications.js';
import { LdapConnection, type LdapConnectionOptions } from './ldap/ldap-connection.js';
import { ShowDeletedControl } from './ldap/simple-controls.js';
import type { ReaderMetrics } from './metrics.js';
import { EmittedStates } from './publish/emitted-states.js';
import { EventPublisher } from './publish/event-publisher.js';
import { baselineCookie, pullDelta, StaleCookieError, type DirSyncChange } from './read/delta-pull.js';
import { ObjectReader } from './read/object-reader.js';
import { buildEvent, type RawEntry, type SnapshotContext } from './read/snapshot-builder.js';
import type { ReaderSettings } from './settings.js';

export type AckStatus = 'ACCEPTED' | 'COMPLETED' | 'REJECTED' | 'FAILED';
export type Ack = (commandId: string, status: AckStatus, message: string, details?: Record<string, string>) => Promise<void>;

interface Domain {
  dnsName: string;
  namingContext: string;
}

type Task = { kind: 'full'; reason: string; commandId?: string } | { kind: 'provision'; target: string; commandId: string };

export interface ForestReaderDeps {
  settings: ReaderSettings;
  forestDocument: () => (ForestDocument & { version?: number }) | undefined;
  configVersion: () => number;
  kafka: KafkaClient;
  log: Logger;
  metrics: ReaderMetrics;
  readiness: Readiness;
  fencingToken: number;
  ack: Ack;
  /** Called once when Kafka says a newer reader took over (this one must stop writing). */
  onFenced: (err: Error) => void;
  /** Local check before each commit: false once the Redis lease is no longer ours. */
  stillLeader: () => boolean;
}

/**
 * The active reader of one forest: owns the LDAP connections, the change-notification listener,
 * the transactional producer and the DirSync cookies. One loop does all the work, one thing at a
 * time (full reads, deltas, provisions), so a cookie is only ever advanced by the code that
 * committed the events it covers.
 */
/** Events per partition a new active reader reads back from its topic to learn what was sent. */
const TAIL_LEARNED = 2_000;

export class ForestReader {
  readonly #d: ForestReaderDeps;
  readonly #log: Logger;
  #running = false;
  #loop: Promise<void> | undefined;
  #wakeUp: (() => void) | undefined;
  #deltaWanted = true;
  #debounce: NodeJS.Timeout | undefined;
  #tasks: Task[] = [];
  #paused = false;
  #reconfigure = true;
  #producer: KafkaProducer | undefined;
  #publisher: EventPublisher | undefined;
  #conn: LdapConnection | undefined;
  #reader: ObjectReader | undefined;
  #listeners: ChangeNotificationListener[] = [];
  #domains: Domain[] = [];
  #checkpoints = new Map<string, ReaderCheckpoint>();
  #lastPoll = 0;
  #ageTimer: NodeJS.Timeout | undefined;
  #fenced = false;
  #producerBroken = false;
  /** What the events topic already holds per object (see EmittedStates). */
  readonly #sent = new EmittedStates();

  constructor(deps: ForestReaderDeps) {
    this.#d = deps;
    this.#log = deps.log.child({ component: 'forest-reader', forest: deps.settings.forest, fencingToken: deps.fencingToken });
  }

  get forest(): string {
    return this.#d.settings.forest;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Become the writer: fence older producers at the broker, load cookies, start the loop. */
  async start(): Promise<void> {
    this.#running = true;
    await this.#newProducer();
    this.#checkpoints = await loadCheckpoints(this.#d.kafka, this.forest, this.#log);
    const learned = await this.#sent.learn(this.#d.kafka, this.forest, TAIL_LEARNED, this.#log);
    this.#log.info({ checkpoints: [...this.#checkpoints.keys()], learned }, 'active: producer fenced older writers, checkpoints loaded');
    this.#ageTimer = setInterval(() => this.#updateCookieAge(), 5_000);
    this.#ageTimer.unref();
    this.#loop = this.#run();
  }

  /**
   * A fresh transactional producer (also after a failed transaction: kafkajs can be left in a
   * state where no new transaction may begin). Registering the id fences every older producer.
   */
  async #newProducer(): Promise<void> {
    await this.#producer?.disconnect();
    this.#producer = await this.#d.kafka.producer({ transactionalId: `canopy-ad-reader-${this.forest}` });
    await this.#producer.initTransactions();
    this.#publisher = new EventPublisher(
      this.#producer,
      this.forest,
      this.#log,
      { maxEventBytes: this.#d.settings.read.maxEventBytes, configVersion: this.#d.configVersion },
      {
        onEvent: (e) => this.#d.metrics.eventsProduced.inc({ kind: e.kind }),
        beforeCommit: () => {
          if (!this.#d.stillLeader()) throw new FencedError('the Redis lease is no longer ours; not committing', { type: 'Lease.Lost' });
        },
      },
    );
    this.#producerBroken = false;
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#debounce) clearTimeout(this.#debounce);
    if (this.#ageTimer) clearInterval(this.#ageTimer);
    this.#wakeUp?.();
    // Let the loop finish its step, but not wait out a slow DC (a bind or a search can take its
    // whole timeout): closing the connections makes the step fail at once. Nothing is committed
    // mid-step (events and checkpoint go in one transaction), so abandoning it loses nothing.
    const finished = await settledWithin(this.#loop, 3_000);
    await this.#teardownLdap();
    if (!finished && !(await settledWithin(this.#loop, 5_000))) this.#log.warn('the read loop did not finish its step in time; abandoning it');
    await this.#teardownLdap(); // a connection the abandoned step opened meanwhile
    await this.#producer?.disconnect();
  }

  /** Something changed (notification): pull a delta after the forest's debounce. */
  notify(): void {
    if (this.#debounce) return;
    const debounce = this.#d.forestDocument()?.schedule.debounce ?? 150;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.#deltaWanted = true;
      this.#wakeUp?.();
    }, debounce);
  }

  requestFullSync(reason: string, commandId?: string): void {
    this.#tasks.push({ kind: 'full', reason, ...(commandId ? { commandId } : {}) });
    this.#wakeUp?.();
  }

  provision(target: string, commandId: string): void {
    this.#tasks.push({ kind: 'provision', target, commandId });
    this.#wakeUp?.();
  }

  pause(): void {
    this.#paused = true;
    this.#log.info('paused: no reads until RESUME');
  }

  resume(): void {
    this.#paused = false;
    this.#deltaWanted = true;
    this.#log.info('resumed');
    this.#wakeUp?.();
  }

  /** The forest document changed: rebuild connections before the next cycle. */
  reconfigure(): void {
    this.#reconfigure = true;
    this.#wakeUp?.();
  }

  async #run(): Promise<void> {
    let backoff = 1_000;
    while (this.#running) {
      try {
        const doc = this.#d.forestDocument();
        if (!doc) {
          this.#d.readiness.set('forest-config', false, `no forest document for ${this.forest} (canopy.config or CANOPY_FOREST_CONFIG_FILE)`);
          await this.#sleep(2_000);
          continue;
        }
        this.#d.readiness.set('forest-config', true, `version ${doc.version ?? 'local'}`);
        if (this.#producerBroken) await this.#newProducer();
        if (this.#reconfigure) await this.#setup(doc);
        if (this.#paused || doc.paused) {
          // Nothing is read while paused; RESUME (or a document change) wakes the loop.
          this.#d.readiness.set('ldap', true, 'paused');
          await this.#sleep(5_000);
          continue;
        }
        await this.#work(doc);
        this.#d.readiness.set('ldap', true, 'connected');
        backoff = 1_000;
        const wait = Math.max(0, doc.schedule.pollInterval - (Date.now() - this.#lastPoll));
        if (!this.#deltaWanted && !this.#tasks.length) await this.#sleep(wait);
      } catch (err) {
        if (!this.#running) break;
        const e = toCanopyError(err);
        this.#d.metrics.cycleErrors.inc({ type: e.type });
        if (e instanceof FencedError || e.type === 'Kafka.Fenced') {
          this.#fenced = true;
          this.#running = false;
          this.#log.warn({ err: e.message, type: e.type }, 'fenced: a newer reader is active; this one stops writing');
          this.#d.onFenced(e);
          break;
        }
        if (e instanceof StaleCookieError) {
          await this.#staleCookie(e);
          continue;
        }
        if (e.type.startsWith('Kafka.')) this.#producerBroken = true;
        this.#d.readiness.set('ldap', false, `${e.type}: ${e.message}`);
        const wait = e.retriable ? backoff : Math.max(backoff, 30_000);
        this.#log[e.retriable ? 'warn' : 'error']({ err: e.message, type: e.type, retryInMs: wait }, 'read cycle failed; retrying');
        await this.#sleep(wait);
        backoff = Math.min(backoff * 2, 30_000);
        this.#deltaWanted = true;
      }
    }
  }

  async #setup(doc: ForestDocument): Promise<void> {
    await this.#teardownLdap();
    const s = this.#d.settings;
    const options: LdapConnectionOptions = {
      url: s.ldap.url ?? doc.connection.url,
      startTls: doc.connection.startTls,
      allowInsecure: doc.connection.allowInsecure,
      tlsServerName: s.ldap.tlsServerName ?? doc.connection.tlsServerName,
      timeout: doc.connection.timeout,
      searchTimeout: doc.connection.searchTimeout,
      pageSize: doc.connection.pageSize,
      bindDn: s.ldap.bindDn,
      bindPassword: s.ldap.bindPassword,
      ca: s.ldap.ca,
      caFile: s.ldap.caFile,
    };
    this.#domains = doc.domains;
    this.#conn = new LdapConnection(options, this.#log, { onReconnect: () => this.#d.metrics.ldapReconnects.inc() });
    this.#reader = new ObjectReader(this.#conn, { extraAttributes: s.read.extraAttributes, batchSize: s.read.batchSize }, this.#log);
    await this.#conn.client();
    await this.#checkDeletedObjectsVisible();
    if (!this.#running) return; // stopped meanwhile: start no listener
    if (doc.schedule.notifications) {
      for (let i = 0; i < s.notifications.connections; i++) {
        const listener = new ChangeNotificationListener(
          { ...options, bases: this.#domains.map((d) => d.namingContext) },
          this.#log,
          (n) => {
            this.#d.metrics.notifications.inc();
            this.#log.debug({ dn: n.dn, connection: i }, 'change notification');
            this.notify();
          },
          {
            // A change during the outage is only visible to DirSync: pull once on every (re)connect.
            onConnected: () => this.notify(),
            onDisconnected: () => this.#d.metrics.ldapReconnects.inc(),
          },
        );
        this.#listeners.push(listener);
        // Staggered, so a multi-process DC hands the connections to different workers.
        if (i === 0) listener.start();
        else setTimeout(() => this.#listeners.includes(listener) && listener.start(), i * 150).unref();
      }
    }
    this.#reconfigure = false;
    this.#deltaWanted = true;
  }

  async #teardownLdap(): Promise<void> {
    const listeners = this.#listeners;
    this.#listeners = [];
    await Promise.all(listeners.map((l) => l.stop()));
    await this.#conn?.close();
    this.#conn = undefined;
  }

  /** Without read access to CN=Deleted Objects the DC hides tombstones from DirSync: deletes would go unseen. */
  async #checkDeletedObjectsVisible(): Promise<void> {
    for (const d of this.#domains) {
      try {
        await this.#conn!.search(`CN=Deleted Objects,${d.namingContext}`, { scope: 'base', filter: '(objectClass=*)', attributes: ['objectGUID'] }, [
          new ShowDeletedControl(),
        ]);
        this.#d.readiness.set(`deletes:${d.dnsName}`, true, 'CN=Deleted Objects readable');
      } catch (err) {
        const e = toCanopyError(err);
        if (e.retriable) throw e;
        this.#log.error(
          { namingContext: d.namingContext, err: e.message },
          'the sync account cannot read CN=Deleted Objects: deletions will NOT be seen (grant it List Contents + Read Property there)',
        );
        this.#d.readiness.set(`deletes:${d.dnsName}`, true, 'WARNING: tombstones not visible to the sync account; deletes are missed');
      }
    }
  }

  async #work(doc: ForestDocument): Promise<void> {
    // 1. Naming contexts never fully read (or whose full read did not finish) come first.
    for (const d of this.#domains) {
      const cp = this.#checkpoints.get(d.namingContext.toLowerCase());
      if (!cp || !cp.fullSyncCompletedAt) {
        await this.#fullRead(d, cp ? 'previous full read did not finish' : 'first start: no checkpoint');
      }
    }
    // 2. Commands, in arrival order.
    while (this.#tasks.length && this.#running) {
      const task = this.#tasks.shift()!;
      if (task.kind === 'full') await this.#fullSyncCommand(task);
      else await this.#provision(task);
    }
    // 3. The delta (notification, poll, or after any of the above).
    const pollDue = Date.now() - this.#lastPoll >= doc.schedule.pollInterval;
    if (this.#deltaWanted || pollDue) {
      this.#deltaWanted = false;
      this.#lastPoll = Date.now();
      for (const d of this.#domains) await this.#delta(d);
    }
  }

  #ctx(d: Domain, origin: SnapshotContext['origin'], cycleId: string | null): SnapshotContext {
    return {
      forest: this.forest,
      domain: d.dnsName,
      readerId: this.#d.settings.readerId,
      readAt: new Date(),
      origin,
      cycleId,
      exclude: new Set(this.#d.settings.read.excludeAttributes.map((a) => a.toLowerCase())),
    };
  }

  #checkpoint(d: Domain, cookie: Buffer, fullSyncCompletedAt: Date | null, highestUsn = 0): ReaderCheckpoint {
    return checkpointOf(this.forest, d.namingContext, cookie, this.#d.fencingToken, this.#d.settings.readerId, fullSyncCompletedAt, highestUsn);
  }

  #commitCheckpoint(cp: ReaderCheckpoint): void {
    this.#checkpoints.set(cp.namingContext.toLowerCase(), cp);
    this.#d.metrics.cookieAge.set({ naming_context: cp.namingContext }, 0);
  }

  #updateCookieAge(): void {
    for (const cp of this.#checkpoints.values()) {
      this.#d.metrics.cookieAge.set({ naming_context: cp.namingContext }, (Date.now() - cp.savedAt.getTime()) / 1000);
    }
  }

  /**
   * Every in-scope object of a naming context as a snapshot; the cookie is taken first. A full
   * read that did not finish (its reader died, fail-over) is redone from the cookie it started
   * with, not a new one: the delta after it then also carries what was deleted meanwhile, which
   * a full read cannot see (deleted objects are not in it).
   */
  async #fullRead(d: Domain, reason: string): Promise<number> {
    const cycleId = `full-${new Date().toISOString()}-${randomUUID().slice(0, 8)}`;
    const started = Date.now();
    const unfinished = this.#checkpoints.get(d.namingContext.toLowerCase());
    const resume = unfinished && !unfinished.fullSyncCompletedAt && unfinished.cookie.length > 0 ? unfinished.cookie : undefined;
    this.#log.info({ namingContext: d.namingContext, reason, cycleId, baseline: resume ? 'the unfinished read\'s' : 'new' }, 'full read started');
    const cookie = resume ?? (await baselineCookie(this.#conn!, d.namingContext, () => !this.#running));
    const startCp = this.#checkpoint(d, cookie, null);
    await this.#publisher!.publish([], [startCp], this.#d.fencingToken);
    this.#commitCheckpoint(startCp);
    let objects = 0;
    let highestUsn = 0;
    // Read the next page from LDAP while the current one is committed to Kafka.
    const pages = this.#reader!.readAll(d.namingContext);
    let nextPage = pages.next();
    for (;;) {
      const current = await nextPage;
      if (current.done) break;
      if (!this.#running) {
        // Leave the prefetch and the paged search behind: teardown closes the connection.
        void pages.return(undefined).catch(() => undefined);
        throw new PermanentError('stopping during a full read', { type: 'Reader.Stopping' });
      }
      nextPage = pages.next();
      nextPage.catch(() => undefined);
      const page = current.value;
      if (!this.#running) throw new PermanentError('stopping during a full read', { type: 'Reader.Stopping' });
      const ctx = this.#ctx(d, 'FULL', cycleId);
      const events = page.map((e) => buildEvent(e, ctx)).filter((e): e is AdObjectEvent => e !== null);
      this.#d.metrics.objectsRead.inc({ origin: 'FULL' }, page.length);
      const out = await this.#publisher!.publish(events, [], this.#d.fencingToken);
      objects += out.events;
      for (const e of events) highestUsn = Math.max(highestUsn, e.usnChanged);
    }
    const doneCp = this.#checkpoint(d, cookie, new Date(), highestUsn);
    await this.#publisher!.publish([], [doneCp], this.#d.fencingToken);
    this.#commitCheckpoint(doneCp);
    const seconds = (Date.now() - started) / 1000;
    const rate = objects / Math.max(seconds, 0.001);
    this.#d.metrics.fullReadObjectsPerSecond.set({ naming_context: d.namingContext }, rate);
    this.#log.info({ namingContext: d.namingContext, objects, seconds, objectsPerSecond: Math.round(rate), cycleId }, 'full read complete');
    this.#deltaWanted = true;
    return objects;
  }

  async #fullSyncCommand(task: Extract<Task, { kind: 'full' }>): Promise<void> {
    try {
      let objects = 0;
      for (const d of this.#domains) objects += await this.#fullRead(d, task.reason);
      if (task.commandId) await this.#d.ack(task.commandId, 'COMPLETED', `full read complete: ${objects} objects`, { objects: String(objects) });
    } catch (err) {
      const e = toCanopyError(err);
      if (task.commandId && !(e instanceof FencedError) && !e.retriable) await this.#d.ack(task.commandId, 'FAILED', e.message);
      // Retriable: the task is retried by the loop.
      if (e.retriable) this.#tasks.unshift(task);
      throw err;
    }
  }

  async #staleCookie(e: StaleCookieError): Promise<void> {
    this.#log.error({ err: e.message }, 'DirSync cookie rejected: starting a full read');
    const result: SyncResult = {
      resultId: randomUUID(),
      opId: null,
      forest: this.forest,
      objectGuid: null,
      sourceAnchor: null,
      dn: null,
      targetType: null,
      stage: 'READER',
      outcome: 'FAILED',
      entraId: null,
      reason: `DirSync cookie rejected, full read started: ${e.message}`,
      error: { type: e.type, code: null, message: e.message, retriable: false, httpStatus: null, attribute: null, expression: null },
      writes: 0,
      changedProperties: [],
      configVersion: this.#d.configVersion(),
      at: new Date(),
    };
    await this.#publisher!.publish([], [], this.#d.fencingToken, [result]);
    // Forget the cookies: the loop's first step then runs a full read of every naming context.
    // (An empty cookie: the full read takes a new baseline instead of resuming from a refused one.)
    for (const [k, cp] of this.#checkpoints) this.#checkpoints.set(k, { ...cp, cookie: Buffer.alloc(0), fullSyncCompletedAt: null });
  }

  async #delta(d: Domain): Promise<void> {
    const cp = this.#checkpoints.get(d.namingContext.toLowerCase());
    if (!cp) return;
    const started = process.hrtime.bigint();
    const pull = await pullDelta(this.#conn!, d.namingContext, cp.cookie);
    this.#log.debug({ namingContext: d.namingContext, entries: pull.entries, changed: pull.changed.length, members: pull.membershipTouched.length }, 'DirSync delta pulled');
    const cycleId = `delta-${new Date().toISOString()}-${randomUUID().slice(0, 8)}`;
    let events: AdObjectEvent[] = [];
    let alreadySent = 0;
    if (pull.changed.length || pull.membershipTouched.length) {
      const read = await this.#readWhole(d, pull.changed, pull.membershipTouched, cycleId);
      // Read back in a state the topic already holds (a change raced the re-read, or the old
      // active reader sent it before a fail-over): not sent twice.
      events = read.filter((e) => !this.#sent.alreadySent(e));
      alreadySent = read.length - events.length;
      // Every event of the cycle says how many deletes the cycle holds: the writer then holds a
      // mass delete as a whole, before the first of its deletes would run.
      const cycleDeletes = events.filter((e) => e.kind === 'TOMBSTONE').length;
      for (const e of events) e.cycleDeletes = cycleDeletes;
    }
    if (!events.length && cp.cookie.equals(pull.cookie)) return;
    const highestUsn = Math.max(cp.highestUsn, ...events.map((e) => e.usnChanged));
    const next = this.#checkpoint(d, pull.cookie, cp.fullSyncCompletedAt, highestUsn);
    await this.#publisher!.publish(events, [next], this.#d.fencingToken);
    this.#commitCheckpoint(next);
    for (const e of events) this.#sent.remember(e);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.#d.metrics.deltaPullDuration.observe({ naming_context: d.namingContext }, seconds);
    if (events.length || alreadySent) this.#log.info({ namingContext: d.namingContext, events: events.length, alreadySent, dirSyncEntries: pull.entries, seconds, cycleId }, 'delta committed');
  }

  /** Read changed objects (and members whose membership changed) whole, across the forest's naming contexts. */
  async #readWhole(d: Domain, changed: DirSyncChange[], touched: Buffer[], cycleId: string): Promise<AdObjectEvent[]> {
    const wanted = new Map<string, Buffer>();
    for (const c of changed) wanted.set(c.objectGuid.toString('hex'), c.objectGuid);
    for (const g of touched) wanted.set(g.toString('hex'), g);
    const found = new Map<string, AdObjectEvent>();
    const order = [d, ...this.#domains.filter((x) => x.namingContext !== d.namingContext)];
    for (const dom of order) {
      const missing = [...wanted.entries()].filter(([k]) => !found.has(k)).map(([, g]) => g);
      if (!missing.length) break;
      const ctx = this.#ctx(dom, 'DELTA', cycleId);
      const entries: RawEntry[] = await this.#reader!.readByGuids(dom.namingContext, missing);
      this.#d.metrics.objectsRead.inc({ origin: 'DELTA' }, entries.length);
      for (const e of entries) {
        const ev = buildEvent(e, ctx);
        if (ev) found.set(ev.objectGuid.toString('hex'), ev);
      }
    }
    // A deleted object we cannot read back (tombstone already gone): emit what DirSync told us.
    for (const c of changed) {
      const k = c.objectGuid.toString('hex');
      if (found.has(k) || !c.deleted) continue;
      const ctx = this.#ctx(d, 'DELTA', cycleId);
      found.set(k, {
        forest: ctx.forest,
        domain: ctx.domain,
        objectGuid: c.objectGuid,
        objectClass: 'OTHER',
        kind: 'TOMBSTONE',
        dn: c.dn,
        usnChanged: 0,
        readAt: ctx.readAt,
        readerId: ctx.readerId,
        attributes: {},
        binaryAttributes: { objectguid: [c.objectGuid] },
        members: null,
        memberOf: [],
        lastKnownParent: c.lastKnownParent,
        origin: 'DELTA',
        cycleId,
      });
    }
    // Changed objects first (DirSync order), then members whose membership changed.
    const out: AdObjectEvent[] = [];
    const emitted = new Set<string>();
    for (const k of [...changed.map((c) => c.objectGuid.toString('hex')), ...touched.map((g) => g.toString('hex'))]) {
      const ev = found.get(k);
      if (ev && !emitted.has(k)) {
        out.push(ev);
        emitted.add(k);
      }
    }
    return out;
  }

  async #provision(task: Extract<Task, { kind: 'provision' }>): Promise<void> {
    const target = task.target.trim();
    try {
      let entry: { raw: RawEntry; domain: Domain } | undefined;
      if (isGuidString(target)) {
        const guid = guidFromString(target);
        for (const dom of this.#domains) {
          const [raw] = await this.#reader!.readByGuids(dom.namingContext, [guid]);
          if (raw) {
            entry = { raw, domain: dom };
            break;
          }
        }
      } else if (/=/.test(target)) {
        const lower = target.toLowerCase();
        const dom = this.#domains.find((x) => lower.endsWith(x.namingContext.toLowerCase()));
        if (!dom) {
          await this.#d.ack(task.commandId, 'REJECTED', `${target} is not in a naming context of forest ${this.forest}`);
          return;
        }
        const raw = await this.#reader!.readByDn(target);
        if (raw) entry = { raw, domain: dom };
      } else {
        await this.#d.ack(task.commandId, 'REJECTED', `target must be a DN or an objectGUID, got "${target}"`);
        return;
      }
      const event = entry ? buildEvent(entry.raw, this.#ctx(entry.domain, 'PROVISION', `provision-${task.commandId}`)) : null;
      if (!event) {
        await this.#d.ack(task.commandId, 'FAILED', `no in-scope object ${target} in forest ${this.forest}`);
        return;
      }
      this.#d.metrics.objectsRead.inc({ origin: 'PROVISION' });
      const out = await this.#publisher!.publish([event], [], this.#d.fencingToken);
      await this.#d.ack(
        task.commandId,
        out.events ? 'COMPLETED' : 'FAILED',
        out.events ? `emitted ${event.kind} of ${event.dn}` : `object ${event.dn} is too large to emit`,
        { objectGuid: guidToString(event.objectGuid), dn: event.dn },
      );
    } catch (err) {
      const e = toCanopyError(err);
      if (e instanceof FencedError) throw e;
      if (e.retriable) {
        this.#tasks.unshift(task);
        throw e;
      }
      await this.#d.ack(task.commandId, 'FAILED', e.message);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.#wakeUp = done;
    }).finally(() => (this.#wakeUp = undefined));
  }

  get fenced(): boolean {
    return this.#fenced;
  }
}

export function isCanopyError(err: unknown): err is CanopyError {
  return err instanceof CanopyError;
}

/** Wait for `p` at most `ms`; true when it settled (either way) in time. */
async function settledWithin(p: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (!p) return true;
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ]);
  clearTimeout(timer);
  return done;
}
