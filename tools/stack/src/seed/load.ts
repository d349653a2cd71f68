/**
 * Writers for the seeded directory.
 *  - offline: streams entries into tools/stack/lib/ldb_load.py, which adds them to the STOPPED DC's
 *    sam.ldb with Samba's own bindings in one batch-mode transaction (fast: ~1,000 objects/s).
 *  - ldap: parallel ldapts connections against the running DC (works remotely; slower, because
 *    Samba serializes writes and wraps every LDAP add in its own transaction).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Attribute, Change, Client } from 'ldapts';
import type { DirectoryModel, SeedEntry } from './model.js';

export interface LoadResult {
  objects: number;
  seconds: number;
}

const progress = (label: string, done: number, total: number, t0: number) => {
  const s = (performance.now() - t0) / 1000;
  process.stderr.write(
    `[seed] ${label}: ${done}/${total} objects (${Math.round(done / Math.max(s, 0.001))}/s)\n`,
  );
};

export async function loadOffline(
  model: DirectoryModel,
  opts: { smbConf: string; samLdb: string; loader: string; label: string },
): Promise<LoadResult> {
  const t0 = performance.now();
  const child = spawn('/usr/bin/python3', [opts.loader, opts.smbConf, `tdb://${opts.samLdb}`, opts.label], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  for (const e of model.entries) {
    const line = `${JSON.stringify({ dn: e.dn, attrs: e.attrs })}\n`;
    if (!child.stdin.write(line)) await new Promise<void>((r) => child.stdin.once('drain', () => r()));
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`ldb_load.py exited with ${code}`);
  const summary = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { objects?: number };
  return { objects: summary.objects ?? model.entries.length, seconds: (performance.now() - t0) / 1000 };
}

export async function loadLdap(
  model: DirectoryModel,
  opts: {
    url: string;
    caFile?: string;
    bindDn: string;
    password: string;
    concurrency: number;
    label: string;
  },
): Promise<LoadResult> {
  const t0 = performance.now();
  const mk = async () => {
    const client = new Client({
      url: opts.url,
      timeout: 120_000,
      ...(opts.url.startsWith('ldaps:') && opts.caFile
        ? { tlsOptions: { ca: [readFileSync(opts.caFile)] } }
        : {}),
    });
    await client.bind(opts.bindDn, opts.password);
    return client;
  };
  const clients = await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, mk));
  const total = model.entries.length;
  let done = 0;
  let lastReport = performance.now();
  const tick = () => {
    done++;
    if (performance.now() - lastReport > 2000) {
      lastReport = performance.now();
      progress(opts.label, done, total, t0);
    }
  };
  const add = (c: Client, e: SeedEntry, attrs = e.attrs) => c.add(e.dn, attrs).then(tick);
  const parallel = async (items: SeedEntry[], fn: (c: Client, e: SeedEntry) => Promise<void>) => {
    let next = 0;
    await Promise.all(
      clients.map(async (c) => {
        for (let i = next++; i < items.length; i = next++) await fn(c, items[i]!);
      }),
    );
  };
  try {
    const byKind = (k: SeedEntry['kind']) => model.entries.filter((e) => e.kind === k);
    for (const e of byKind('ou')) await add(clients[0]!, e);
    // manager links point at users that another connection may still be adding: set them afterwards.
    const users = byKind('user');
    await parallel(users, (c, e) => {
      const { manager: _manager, ...rest } = e.attrs;
      return add(c, e, rest);
    });
    await parallel(byKind('contact'), (c, e) => add(c, e));
    // Groups nest in creation order: add them one by one; big member lists go in chunks.
    for (const e of byKind('group')) {
      const { member, ...rest } = e.attrs;
      await add(clients[0]!, e, rest);
      const members = Array.isArray(member) ? member : member ? [member] : [];
      for (let i = 0; i < members.length; i += 1000) {
        await clients[0]!.modify(
          e.dn,
          new Change({
            operation: 'add',
            modification: new Attribute({ type: 'member', values: members.slice(i, i + 1000) }),
          }),
        );
      }
    }
    await parallel(
      users.filter((e) => e.attrs.manager),
      (c, e) =>
        c.modify(
          e.dn,
          new Change({
            operation: 'replace',
            modification: new Attribute({ type: 'manager', values: [String(e.attrs.manager)] }),
          }),
        ),
    );
  } finally {
    await Promise.all(clients.map((c) => c.unbind().catch(() => undefined)));
  }
  return { objects: total, seconds: (performance.now() - t0) / 1000 };
}
