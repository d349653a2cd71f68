import { codecs } from '@canopy/contracts';
import type { SpawnedService } from '@canopy/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anchorOf,
  deleteOp,
  graphCaller,
  groupOp,
  kafkaEnv,
  publishGlobal,
  resultFor,
  sendOps,
  startEmulator,
  startWriter,
  userOp,
  type EmulatorProcess,
  type Env,
} from './harness.js';

/**
 * One emulator, one writer process, the stack's Kafka and Redis: the life of users and groups
 * through the writer, with the writes each step costs counted by the emulator.
 */
describe('graph-writer against the Graph emulator', () => {
  let em: EmulatorProcess;
  let env: Env;
  let writer: SpawnedService;
  let graph: Awaited<ReturnType<typeof graphCaller>>;

  beforeAll(async () => {
    em = await startEmulator();
    env = await kafkaEnv();
    graph = await graphCaller(em);
    await publishGlobal(env, em);
    writer = await startWriter(env, em, { CANOPY_WRITER__MEMBER_RETRIES: '2', CANOPY_WRITER__MEMBER_BACKOFF: '200ms' });
  }, 120_000);

  afterAll(async () => {
    await writer?.stop('SIGTERM');
    await env?.close();
    await em?.stop();
  });

  const writesSoFar = async () => (await em.counters()).writes as number;

  it('creates a user with one write, then skips the same desired state with none, then patches only what changed', async () => {
    const anchor = anchorOf('alice');
    const op = userOp(em, anchor, { givenName: 'Alice', proxyAddresses: ['SMTP:alice@corp.example.test'] });
    const before = await writesSoFar();
    await sendOps(env, [op]);
    const created = await resultFor(env, op);
    expect(created).toMatchObject({ outcome: 'CREATED', stage: 'WRITER', writes: 1, sourceAnchor: anchor, configVersion: 1 });
    expect(created.reason).toContain('proxyAddresses');
    expect(await writesSoFar()).toBe(before + 1);
    const user = await graph('GET', `/users/${created.entraId}?$select=id,onPremisesImmutableId,givenName,accountEnabled`);
    expect(user.body).toMatchObject({ onPremisesImmutableId: anchor, givenName: 'Alice', accountEnabled: true });

    const again = { ...op, opId: crypto.randomUUID() };
    await sendOps(env, [again]);
    expect(await resultFor(env, again)).toMatchObject({ outcome: 'NOOP', writes: 0, entraId: created.entraId });
    expect(await writesSoFar()).toBe(before + 1);

    const changed = { ...op, opId: crypto.randomUUID(), properties: { ...op.properties, givenName: 'Alicia', jobTitle: 'Engineer' } };
    await sendOps(env, [changed]);
    const updated = await resultFor(env, changed);
    expect(updated).toMatchObject({ outcome: 'UPDATED', writes: 1, entraId: created.entraId });
    expect(updated.changedProperties).toEqual(['givenName', 'jobTitle']);
    expect((await graph('GET', `/users/${created.entraId}?$select=givenName,jobTitle`)).body).toMatchObject({ givenName: 'Alicia', jobTitle: 'Engineer' });
  });

  it('soft-deletes, and restores (same id) an object that comes back instead of recreating it', async () => {
    const anchor = anchorOf('bob');
    const op = userOp(em, anchor);
    await sendOps(env, [op]);
    const created = await resultFor(env, op);
    const del = deleteOp(op);
    await sendOps(env, [del]);
    expect(await resultFor(env, del)).toMatchObject({ outcome: 'DELETED', entraId: created.entraId, writes: 1 });
    expect((await graph('GET', `/users/${created.entraId}`)).status).toBe(404);
    expect((await graph('GET', `/directory/deletedItems/${created.entraId}`)).status).toBe(200);

    const back = { ...op, opId: crypto.randomUUID(), properties: { ...op.properties, displayName: 'Bob is back' } };
    await sendOps(env, [back]);
    const restored = await resultFor(env, back);
    expect(restored).toMatchObject({ outcome: 'RESTORED', entraId: created.entraId });
    expect(restored.writes).toBe(2); // restore + PATCH, one $batch chained with dependsOn
    expect(restored.changedProperties).toContain('displayName');
    expect((await graph('GET', `/users/${created.entraId}?$select=displayName`)).body.displayName).toBe('Bob is back');
    const state = await em.exportState();
    expect(JSON.stringify(state).split(anchor).length - 1).toBeGreaterThanOrEqual(1);
  });

  it('skips a delete of an anchor that is not in Entra, contacts and mail-enabled groups, with a reason', async () => {
    const ghost = deleteOp(userOp(em, anchorOf('ghost')));
    const contact = { ...userOp(em, anchorOf('contact')), targetType: 'CONTACT' as const };
    const dl = groupOp(anchorOf('dl'), [], { mailEnabled: true, securityEnabled: false });
    await sendOps(env, [ghost, contact, dl]);
    expect(await resultFor(env, ghost)).toMatchObject({ outcome: 'SKIPPED', reason: 'not in Entra, nothing to delete (out of scope)', writes: 0 });
    expect((await resultFor(env, contact)).reason).toMatch(/orgContact/);
    expect((await resultFor(env, dl)).reason).toMatch(/read-only in Microsoft Graph/);
  });

  it('soft-matches an unlinked cloud user on UPN and links it, instead of creating a twin', async () => {
    const upn = `carol${Date.now()}@${em.info.initialDomain}`;
    const seeded = await graph('POST', '/users', {
      accountEnabled: true,
      displayName: 'Carol (cloud)',
      mailNickname: `carol${Date.now()}`,
      userPrincipalName: upn,
      passwordProfile: { password: 'Cloud-Only-Passw0rd!', forceChangePasswordNextSignIn: false },
    });
    expect(seeded.status).toBe(201);
    const anchor = anchorOf('carol');
    const op = userOp(em, anchor, { userPrincipalName: upn, displayName: 'Carol' });
    await sendOps(env, [op]);
    const r = await resultFor(env, op);
    expect(r).toMatchObject({ outcome: 'UPDATED', entraId: seeded.body.id });
    expect(r.reason).toMatch(/soft-matched .* userPrincipalName/);
    expect((await graph('GET', `/users/${seeded.body.id}?$select=onPremisesImmutableId,displayName`)).body).toMatchObject({ onPremisesImmutableId: anchor, displayName: 'Carol' });
  });

  it('refuses to soft-match a cloud user holding an admin role, and dead-letters the op', async () => {
    const nick = `admin${Date.now()}`;
    const upn = `${nick}@${em.info.initialDomain}`;
    const admin = await graph('POST', '/users', {
      accountEnabled: true,
      displayName: 'Cloud admin',
      mailNickname: nick,
      userPrincipalName: upn,
      passwordProfile: { password: 'Cloud-Only-Passw0rd!', forceChangePasswordNextSignIn: false },
    });
    const roleGroup = await graph('POST', '/groups', {
      displayName: 'Global admins (role-assignable)',
      mailNickname: `roles${Date.now()}`,
      mailEnabled: false,
      securityEnabled: true,
      isAssignableToRole: true,
      'members@odata.bind': [`${em.info.graphBaseUrl}/directoryObjects/${admin.body.id}`],
    });
    expect(roleGroup.status, JSON.stringify(roleGroup.body)).toBe(201);
    const op = userOp(em, anchorOf('takeover'), { userPrincipalName: upn });
    await sendOps(env, [op]);
    const r = await resultFor(env, op);
    expect(r.outcome).toBe('FAILED');
    expect(r.error).toMatchObject({ type: 'Writer.SoftMatchAdmin', retriable: false, attribute: 'userPrincipalName' });
    expect(r.reason).toMatch(/administrator role/);
    const dl = env.deadLetters.find((d) => d.value && codecs.entraOperation.decode(d.value).opId === op.opId);
    expect(dl).toBeDefined();
    expect((await graph('GET', `/users/${admin.body.id}?$select=onPremisesImmutableId`)).body.onPremisesImmutableId ?? null).toBeNull();
  });

  it('fails a duplicate UPN alone, naming the property, while the rest flows', async () => {
    const first = userOp(em, anchorOf('dup1'));
    await sendOps(env, [first]);
    await resultFor(env, first);
    const dup = userOp(em, anchorOf('dup2'), { userPrincipalName: first.properties.userPrincipalName });
    const fine = userOp(em, anchorOf('fine'));
    await sendOps(env, [dup, fine]);
    const r = await resultFor(env, dup);
    expect(r.outcome).toBe('FAILED');
    expect(r.error).toMatchObject({ retriable: false, attribute: 'userPrincipalName' });
    expect(r.error!.message).toMatch(/userPrincipalName/);
    expect((await resultFor(env, fine)).outcome).toBe('CREATED');
  });

  it('picks the first free candidate for SelectUniqueValue', async () => {
    const taken = userOp(em, anchorOf('uniq1'));
    await sendOps(env, [taken]);
    await resultFor(env, taken);
    const second = `${String(taken.properties.mailNickname)}2@${em.info.initialDomain}`;
    const op = userOp(em, anchorOf('uniq2'), {}, { uniqueCandidates: { userPrincipalName: [String(taken.properties.userPrincipalName), second] } });
    op.properties.userPrincipalName = taken.properties.userPrincipalName!;
    await sendOps(env, [op]);
    const r = await resultFor(env, op);
    expect(r.outcome).toBe('CREATED');
    expect((await graph('GET', `/users/${r.entraId}?$select=userPrincipalName`)).body.userPrincipalName).toBe(second);
  });

  it('writes a group with its members 20 to a write, removes members, and reports members not in Entra yet', async () => {
    const users = Array.from({ length: 30 }, (_, i) => userOp(em, anchorOf(`m${i}`)));
    await sendOps(env, users);
    for (const u of users) expect((await resultFor(env, u)).outcome).toBe('CREATED');
    const missing = anchorOf('not-yet');
    const gAnchor = anchorOf('group');
    const before = await writesSoFar();
    const g = groupOp(gAnchor, [...users.map((u) => u.sourceAnchor), missing]);
    await sendOps(env, [g]);
    const r = await resultFor(env, g, 60_000);
    expect(r.outcome).toBe('CREATED');
    expect(r.writes).toBe(2); // create with 20 members inline + one PATCH of 10
    expect(await writesSoFar()).toBe(before + 2);
    expect(r.reason).toContain('1 member(s) not in Entra yet');
    expect(r.reason).toContain(missing);
    const members = await graph('GET', `/groups/${r.entraId}/members?$select=id&$top=999`);
    expect(members.body.value).toHaveLength(30);
    const ext = (await graph('GET', `/groups/${r.entraId}`)).body;
    expect(ext.id).toBe(r.entraId);

    // Drop 3 members: 3 writes (DELETE $ref each), nothing else.
    const smaller = { ...g, opId: crypto.randomUUID(), members: users.slice(3).map((u) => u.sourceAnchor) };
    await sendOps(env, [smaller]);
    const r2 = await resultFor(env, smaller, 60_000);
    expect(r2).toMatchObject({ outcome: 'UPDATED', writes: 3, changedProperties: ['members'] });
    expect((await graph('GET', `/groups/${r.entraId}/members?$select=id&$top=999`)).body.value).toHaveLength(27);
  });

  it('a member written after its group joins it, even when Graph has not replicated it yet (404 on the add)', async () => {
    const late = anchorOf('late-member');
    const g = groupOp(anchorOf('waiting-group'), [late]);
    await sendOps(env, [g]);
    const rg = await resultFor(env, g, 60_000);
    expect(rg.outcome).toBe('CREATED');
    expect(rg.reason).toContain('1 member(s) not in Entra yet');
    // New objects now take 1.5 s to become readable: the add of the new user answers 404 first.
    await em.admin('PATCH', '/config', { replicationLagMs: 1500 });
    try {
      const u = userOp(em, late);
      await sendOps(env, [u]);
      const ru = await resultFor(env, u, 60_000);
      expect(ru.outcome).toBe('CREATED');
      expect(ru.reason).toContain('added to 1 group(s) that were waiting for it');
      await new Promise((r) => setTimeout(r, 1600));
      const members = await graph('GET', `/groups/${rg.entraId}/members?$select=id`);
      expect(members.body.value.map((m: { id: string }) => m.id)).toEqual([ru.entraId]);
    } finally {
      await em.admin('PATCH', '/config', { replicationLagMs: 0 });
    }
  });

  it('dead-letters an undecodable message and goes on with the stream', async () => {
    const op = userOp(em, anchorOf('after-junk'));
    await env.producer.send(env.topics.ops, [{ key: 'junk', value: Buffer.from('not avro at all') }]);
    await sendOps(env, [op]);
    expect((await resultFor(env, op)).outcome).toBe('CREATED');
    const dl = env.deadLetters.find((d) => d.key?.toString() === 'junk');
    expect(dl).toMatchObject({ stage: 'WRITER', retriable: false });
    expect(dl!.reason).toMatch(/undecodable/);
    expect(dl!.value!.toString()).toBe('not avro at all');
  });

  it('exposes its metrics', async () => {
    const text = await (await fetch(`${writer.url}/metrics`)).text();
    for (const name of ['writes_total', 'requests_total', 'throttled_total', 'quota_tokens_available', 'held_deletes', 'results_total', 'write_latency_seconds']) {
      expect(text).toContain(`canopy_graph_writer_${name}`);
    }
    expect(text).toMatch(/canopy_graph_writer_results_total\{outcome="CREATED"/);
  });
});
