import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  TOPICS,
  adObjectsTopic,
  codecs,
  guidToString,
  type AdObjectEvent,
  type CommandAck,
  type ControlCommand,
  keys,
  type ReaderCheckpoint,
  type SyncResult,
} from '@canopy/contracts';
import { encodeConfigDocument, publishConfigDocuments } from '@canopy/central-config';
import { KafkaClient, ensureCanopyTopics, kafkaOptionsSchema, type KafkaConsumer, type KafkaProducer } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { getForest, readStackInfo, type ForestInfo, type StackInfo } from '@canopy/stack';
import { spawnService, stackEnv, waitFor, type SpawnedService } from '@canopy/test-kit';
import { Attribute, Change, Client, Control } from 'ldapts';

export const log = createLogger({ name: 'ad-reader-test', level: 'warn' });

export function stack(): { info: StackInfo; corp: ForestInfo } {
  const info = readStackInfo();
  return { info, corp: getForest(info, 'corp') };
}

export function password(file: string): string {
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

/** Unique per run: forest names (topics, checkpoints, leases) and OUs never collide across runs. */
export function runId(): string {
  return randomUUID().slice(0, 8);
}

/** A local forest document for the reader (labs override), pointing at the stack's corp DC. */
export function forestDocument(forest: string, corp: ForestInfo, schedule: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: forest,
    connection: { url: corp.ldapsUrl, timeout: '15s', pageSize: 1000 },
    domains: [{ dnsName: corp.name }],
    schedule: { pollInterval: '20s', debounce: '100ms', ...schedule },
  };
}

export function forestDocumentFile(forest: string, corp: ForestInfo, schedule: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'adr-forest-'));
  const file = join(dir, 'forest.json');
  writeFileSync(file, JSON.stringify(forestDocument(forest, corp, schedule)));
  return file;
}

export function readerEnv(
  forest: string,
  corp: ForestInfo,
  namespace: string,
  extra: Record<string, string> = {},
  schedule: Record<string, unknown> = {},
): Record<string, string> {
  return {
    ...stackEnv({}, namespace),
    CANOPY_FOREST: forest,
    CANOPY_LDAP__BIND_DN: corp.syncAccount.upn,
    CANOPY_LDAP__BIND_PASSWORD_FILE: corp.syncAccount.passwordFile,
    CANOPY_LDAP__CA_FILE: corp.caFile,
    CANOPY_FOREST_CONFIG_FILE: forestDocumentFile(forest, corp, schedule),
    CANOPY_LOG_LEVEL: 'info',
    ...extra,
  };
}

export async function spawnReader(env: Record<string, string>, readerId: string): Promise<SpawnedService> {
  return spawnService('ad-reader', { ...env, CANOPY_READER_ID: readerId }, { timeoutMs: 30_000 });
}

/**
 * Samba hides tombstones from DirSync unless the sync account may list CN=Deleted Objects
 * (Windows AD does not need this). The stack should grant it; until it does, grant it here.
 */
export function ensureDeletedObjectsReadable(corp: ForestInfo, info: StackInfo): void {
  const dir = join(info.stateDir, 'forests', corp.key);
  const sid = readFileSync(join(dir, 'sync.sid'), 'utf8').trim();
  // The stack grants it at provisioning and on every `up`; this keeps older stacks working.
  const script = fileURLToPath(new URL('../../../../tools/stack/lib/grant-deleted-objects.py', import.meta.url));
  execFileSync('/usr/bin/python3', [script, join(dir, 'dc', 'etc', 'smb.conf'), `tdb://${join(dir, 'dc', 'private', 'sam.ldb')}`, corp.baseDn, sid], {
    stdio: 'pipe',
  });
}

class ShowDeleted extends Control {
  constructor() {
    super('1.2.840.113556.1.4.417', { critical: true });
  }
}

/** Administrator's hands on the DC: make the changes the reader must see. */
export class Directory {
  readonly client: Client;
  readonly created: string[] = [];

  constructor(
    readonly corp: ForestInfo,
    readonly ou: string,
  ) {
    this.client = new Client({ url: corp.ldapsUrl, tlsOptions: { ca: [readFileSync(corp.caFile, 'utf8')] }, timeout: 30_000 });
  }

  async open(): Promise<this> {
    await this.client.bind(this.corp.admin.upn, password(this.corp.admin.passwordFile));
    await this.client.add(this.ou, { objectClass: ['top', 'organizationalUnit'] });
    return this;
  }

  dn(rdn: string, parent = this.ou): string {
    return `${rdn},${parent}`;
  }

  async addOu(name: string): Promise<string> {
    const dn = this.dn(`OU=${name}`);
    await this.client.add(dn, { objectClass: ['top', 'organizationalUnit'] });
    return dn;
  }

  async addUser(cn: string, attrs: Record<string, string | string[]> = {}, parent = this.ou, objectClass = 'user'): Promise<string> {
    const dn = this.dn(`CN=${cn}`, parent);
    const sam = `${cn}`.replace(/[^A-Za-z0-9]/g, '').slice(0, 18) + Math.floor(Math.random() * 1000);
    await this.client.add(dn, {
      objectClass: objectClass === 'inetOrgPerson' ? ['top', 'person', 'organizationalPerson', 'user', 'inetOrgPerson'] : ['top', 'person', 'organizationalPerson', 'user'],
      sAMAccountName: sam,
      userPrincipalName: `${sam}@${this.corp.name}`,
      ...attrs,
    });
    return dn;
  }

  async addGroup(cn: string, members: string[] = [], parent = this.ou): Promise<string> {
    const dn = this.dn(`CN=${cn}`, parent);
    await this.client.add(dn, {
      objectClass: ['top', 'group'],
      sAMAccountName: cn.replace(/[^A-Za-z0-9-]/g, '').slice(0, 18) + Math.floor(Math.random() * 1000),
      ...(members.length ? { member: members } : {}),
    });
    return dn;
  }

  async addContact(cn: string, attrs: Record<string, string | string[]> = {}, parent = this.ou): Promise<string> {
    const dn = this.dn(`CN=${cn}`, parent);
    await this.client.add(dn, { objectClass: ['top', 'person', 'organizationalPerson', 'contact'], ...attrs });
    return dn;
  }

  async replace(dn: string, type: string, values: Array<string | Buffer>): Promise<void> {
    await this.client.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type, values: values as string[] }) }));
  }

  async addValues(dn: string, type: string, values: string[]): Promise<void> {
    await this.client.modify(dn, new Change({ operation: 'add', modification: new Attribute({ type, values }) }));
  }

  async removeValues(dn: string, type: string, values: string[]): Promise<void> {
    await this.client.modify(dn, new Change({ operation: 'delete', modification: new Attribute({ type, values }) }));
  }

  async rename(dn: string, newDn: string): Promise<void> {
    await this.client.modifyDN(dn, newDn);
  }

  async del(dn: string): Promise<void> {
    await this.client.del(dn);
  }

  async guidOf(dn: string): Promise<string> {
    const { searchEntries } = await this.client.search(dn, { scope: 'base', attributes: ['objectGUID'], explicitBufferAttributes: ['objectGUID'] });
    return guidToString(searchEntries[0]!.objectGUID as Buffer);
  }

  /** Reanimate a tombstone (AD "restore"): delete isDeleted and give it a DN again. */
  async restore(guid: string, newDn: string): Promise<void> {
    const { searchEntries } = await this.client.search(
      `<GUID=${guid}>`,
      { scope: 'base', attributes: ['distinguishedName'] },
      [new ShowDeleted()],
    );
    const tombDn = searchEntries[0]!.dn;
    await this.client.modify(
      tombDn,
      [
        new Change({ operation: 'delete', modification: new Attribute({ type: 'isDeleted', values: [] }) }),
        new Change({ operation: 'replace', modification: new Attribute({ type: 'distinguishedName', values: [newDn] }) }),
      ],
      [new ShowDeleted()],
    );
  }

  /** Delete the test OU and everything under it (deepest first). */
  async cleanup(): Promise<void> {
    try {
      const { searchEntries } = await this.client.search(this.ou, { scope: 'sub', attributes: ['1.1'] });
      const dns = searchEntries.map((e) => e.dn).sort((a, b) => b.split(',').length - a.split(',').length);
      for (const dn of dns) await this.client.del(dn).catch(() => undefined);
    } finally {
      await this.client.unbind().catch(() => undefined);
    }
  }
}

export interface SeenEvent {
  event: AdObjectEvent;
  offset: string;
  partition: number;
  headers: Record<string, string>;
  /** When this test process received it (ms). */
  receivedAt: number;
  /** Broker timestamp (ms). */
  timestamp: number;
}

/** Everything committed to a topic (read_committed), decoded, in arrival order. */
export class Collector {
  readonly kafka: KafkaClient;
  readonly events: SeenEvent[] = [];
  readonly acks: CommandAck[] = [];
  readonly results: SyncResult[] = [];
  #consumers: KafkaConsumer[] = [];
  #producer: KafkaProducer | undefined;

  constructor(
    info: StackInfo,
    readonly forest: string,
    readonly namespace: string,
  ) {
    this.kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: info.kafka.brokers, clientId: `adr-test-${forest}`, namespace }), log);
  }

  async start(): Promise<this> {
    await ensureCanopyTopics(this.kafka.admin(), { forests: [this.forest] });
    const group = `adr-test-${this.forest}-${randomUUID().slice(0, 6)}`;
    const events = this.kafka.consumer({ groupId: `${group}-events`, maxBytesPerPartition: 10_485_760 });
    await events.subscribe({ topics: [adObjectsTopic(this.forest)], fromBeginning: true });
    await events.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        if (m.value) {
          const headers = Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, v?.toString() ?? '']));
          this.events.push({ event: codecs.adObjectEvent.decode(m.value), offset: m.offset, partition: m.partition, headers, receivedAt: Date.now(), timestamp: m.timestamp });
        }
        ctx.resolveOffset(m.offset);
      }
    });
    const others = this.kafka.consumer({ groupId: `${group}-others` });
    await others.subscribe({ topics: [TOPICS.controlAcks.name, TOPICS.syncResults.name], fromBeginning: false });
    await others.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        if (m.value && m.topic === TOPICS.controlAcks.name) this.acks.push(codecs.commandAck.decode(m.value));
        if (m.value && m.topic === TOPICS.syncResults.name) {
          const r = codecs.syncResult.decode(m.value);
          if (r.forest === this.forest) this.results.push(r);
        }
        ctx.resolveOffset(m.offset);
      }
    });
    this.#consumers.push(events, others);
    return this;
  }

  of(guid: string): AdObjectEvent[] {
    return this.events.filter((e) => guidToString(e.event.objectGuid) === guid).map((e) => e.event);
  }

  seenOf(guid: string): SeenEvent[] {
    return this.events.filter((e) => guidToString(e.event.objectGuid) === guid);
  }

  async waitFor<T>(what: string, check: () => T, timeoutMs = 30_000): Promise<NonNullable<T>> {
    return waitFor(what, check, { timeoutMs, intervalMs: 20 });
  }

  async command(cmd: Omit<ControlCommand, 'commandId' | 'issuedAt' | 'issuedBy' | 'args' | 'forest'> & Partial<ControlCommand>): Promise<string> {
    this.#producer ??= await this.kafka.producer();
    const full: ControlCommand = {
      commandId: randomUUID(),
      forest: this.forest,
      target: null,
      args: {},
      issuedBy: 'ad-reader-test',
      issuedAt: new Date(),
      ...cmd,
    };
    await this.#producer.send(TOPICS.control.name, [{ key: full.commandId, value: codecs.controlCommand.encode(full) }]);
    return full.commandId;
  }

  /** Publish a forest document (version n) to canopy.config in this namespace. */
  async publishForestDocument(body: Record<string, unknown>, version: number): Promise<void> {
    this.#producer ??= await this.kafka.producer();
    await publishConfigDocuments(this.#producer, [encodeConfigDocument({ kind: 'FOREST', body }, version, 'ad-reader-test')]);
  }

  /** Write a checkpoint as if a reader had (e.g. a garbage cookie). */
  async writeCheckpoint(c: ReaderCheckpoint): Promise<void> {
    this.#producer ??= await this.kafka.producer();
    await this.#producer.send(TOPICS.readerCheckpoints.name, [{ key: keys.readerCheckpoint(c.forest, c.namingContext), value: codecs.readerCheckpoint.encode(c) }]);
  }

  async stop(deleteTopic = true): Promise<void> {
    for (const c of this.#consumers) await c.stop();
    if (deleteTopic) await this.kafka.admin().deleteTopics([adObjectsTopic(this.forest)]).catch(() => undefined);
    await this.kafka.close();
  }
}

/** The "full read complete" log line of a reader process, parsed. */
export function fullReadLine(lines: string[]): { objects: number; seconds: number; objectsPerSecond: number } | undefined {
  for (const l of lines) {
    if (!l.includes('"full read complete"')) continue;
    return JSON.parse(l) as { objects: number; seconds: number; objectsPerSecond: number };
  }
  return undefined;
}
