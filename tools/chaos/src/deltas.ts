import { AdAdmin } from '@canopy/acceptance';
import { ldapsClient, readSecret, type DirectoryModel, type ForestInfo } from '@canopy/stack';

/**
 * AD changes made while the chaos runs: creates, attribute changes, disables, member adds and
 * removes, deletes. The DC restarts under it, so a failed change is counted and retried on a new
 * connection; the oracle reads AD at the end, so what AD holds is the truth either way.
 */
export interface DeltaCounts {
  create: number;
  modify: number;
  disable: number;
  memberAdd: number;
  memberRemove: number;
  delete: number;
  failed: number;
}

export class DeltaWriter {
  readonly counts: DeltaCounts = { create: 0, modify: 0, disable: 0, memberAdd: 0, memberRemove: 0, delete: 0, failed: 0 };
  /** Every change made, with its time (written beside the logs, to trace a difference back). */
  readonly journal: Array<{ at: string; change: string; dn: string }> = [];
  #admin: AdAdmin | undefined;
  #created: string[] = [];
  #n = 0;
  #rnd: () => number;

  constructor(
    private readonly forest: ForestInfo,
    private readonly model: DirectoryModel,
    readonly ou: string,
    private readonly run: string,
    seed = 42,
  ) {
    let a = seed >>> 0;
    this.#rnd = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  async #connect(): Promise<AdAdmin> {
    if (this.#admin) return this.#admin;
    const client = ldapsClient(this.forest, 15_000);
    await client.bind(this.forest.admin.dn, readSecret(this.forest.admin.passwordFile));
    this.#admin = new AdAdmin(client, this.forest.baseDn, this.forest.name);
    return this.#admin;
  }

  async #drop(): Promise<void> {
    const a = this.#admin;
    this.#admin = undefined;
    await a?.client.unbind().catch(() => undefined);
  }

  /** Empty the deltas OU left by an earlier run (before the pipeline starts). */
  async prepare(): Promise<void> {
    const ad = await this.#connect();
    await ad.deleteTree(this.ou);
    await ad.ensureOu(this.ou);
  }

  #pick<T>(xs: T[]): T {
    return xs[Math.floor(this.#rnd() * xs.length)]!;
  }

  /** One random change; false when it failed (the DC may be restarting). */
  async step(): Promise<boolean> {
    const inScope = this.model.users.filter((u) => !u.dn.toLowerCase().endsWith(this.model.outOfScopeOu.toLowerCase()));
    const groups = this.model.groups.filter((g) => g.groupType < 0 && !g.mail && g !== this.model.largeGroup);
    const r = this.#rnd();
    try {
      const ad = await this.#connect();
      if (r < 0.35 || this.#created.length < 5) {
        const i = ++this.#n;
        const sam = `cx${this.run}${i}`.slice(0, 20);
        const dn = await ad.addUser(this.ou, `Chaos Delta ${this.run} ${i}`, {
          sAMAccountName: sam,
          userPrincipalName: `${sam}@${this.forest.name}`,
          title: 'Created under chaos',
          department: 'Chaos',
        });
        this.#created.push(dn);
        this.counts.create++;
        this.#note('create', dn);
      } else if (r < 0.6) {
        const u = this.#pick(inScope);
        await ad.replace(u.dn, { title: `Chaos title ${this.run}-${++this.#n}` });
        this.counts.modify++;
      } else if (r < 0.68) {
        await ad.replace(this.#pick(this.#created), { userAccountControl: '514' });
        this.counts.disable++;
      } else if (r < 0.8) {
        await ad.addMembers(this.#pick(groups).dn, [this.#pick(this.#created)]);
        this.counts.memberAdd++;
      } else if (r < 0.88) {
        const g = this.#pick(groups);
        const member = this.#pick(g.members.filter((m) => !m.toLowerCase().endsWith(this.model.outOfScopeOu.toLowerCase())));
        if (!member) return true;
        await ad.removeMembers(g.dn, [member]);
        this.counts.memberRemove++;
      } else {
        const i = Math.floor(this.#rnd() * this.#created.length);
        const [dn] = this.#created.splice(i, 1);
        await ad.delete(dn!);
        this.counts.delete++;
        this.#note('delete', dn!);
      }
      return true;
    } catch (err) {
      const msg = String((err as Error).message);
      // Already a member / not a member / already exists: AD said no to a no-op, the change is moot.
      if (/ENTRY_EXISTS|ATTRIBUTE_OR_VALUE_EXISTS|NO_SUCH_ATTRIBUTE|already exists|(^|\D)(20|16|68)(\D|$)/i.test(msg)) return true;
      this.counts.failed++;
      await this.#drop();
      return false;
    }
  }

  #note(change: string, dn: string): void {
    this.journal.push({ at: new Date().toISOString(), change, dn });
  }

  async close(): Promise<void> {
    await this.#drop();
  }
}
