import type { ConfigStore } from '@canopy/central-config';
import { codecs, type AdObjectEvent } from '@canopy/contracts';
import { NotFoundError } from '@canopy/errors';
import type { KafkaClient } from '@canopy/kafka';
import { rulesFromConfig, transform, type MappedAttribute } from '@canopy/sync-rules';
import type { LoggedOutcome, ProvisioningLog } from '../log/provisioning-log.js';
import type { ObjectIndex, ObjectLocation } from './object-index.js';

export interface Journey {
  forest: string;
  target: string;
  snapshot: {
    location: ObjectLocation;
    dn: string;
    objectClass: string;
    kind: string;
    usnChanged: number;
    readAt: string;
    attributes: Record<string, string[]>;
    binaryAttributes: string[];
    members: number | null;
    memberOf: string[];
  };
  configVersion: number;
  scoping: { inScope: boolean; rule: string; detail: string } | null;
  decision: { kind: 'op' | 'skipped' | 'failed'; action?: string; sourceAnchor?: string; reason?: string | null; error?: unknown };
  mapped: MappedAttribute[];
  members?: { kept: number; excluded: Array<{ dn: string; rule: string; detail: string }> };
  result: LoggedOutcome | null;
}

/**
 * `explain` and `preview`: the latest AD snapshot from the connector space, run through the
 * current rules with the transformer's own code (so the scoping rule that decided is named), and
 * the latest recorded result. Nothing is written.
 */
export class ExplainService {
  constructor(
    private readonly kafka: KafkaClient,
    private readonly index: ObjectIndex,
    private readonly store: ConfigStore,
    private readonly provisioningLog: ProvisioningLog,
  ) {}

  async snapshot(forest: string, target: string): Promise<{ location: ObjectLocation; event: AdObjectEvent }> {
    const location = await this.index.locate(forest, target);
    if (!location) throw new NotFoundError(`${target} is not in forest ${forest}'s connector space (not read yet, or out of the reader's view)`);
    const message = await this.kafka.fetchOne(location.topic, location.partition, BigInt(location.offset));
    if (!message) throw new NotFoundError(`the snapshot of ${target} at ${location.topic}/${location.partition}@${location.offset} is gone`);
    return { location, event: codecs.adObjectEvent.decode(message.value) };
  }

  async explain(forest: string, target: string): Promise<Journey> {
    const { location, event } = await this.snapshot(forest, target);
    const snap = this.store.snapshot();
    const doc = snap.forests.get(forest);
    if (!doc) throw new NotFoundError(`no configuration for forest ${forest}`);
    const rules = rulesFromConfig(forest, doc.rules, snap.global?.tenant);
    const outcome = transform(event, rules, { configVersion: doc.version, now: new Date() });
    const result = await this.provisioningLog.latest(forest, location.guid);
    return {
      forest,
      target,
      snapshot: {
        location,
        dn: event.dn,
        objectClass: event.objectClass,
        kind: event.kind,
        usnChanged: event.usnChanged,
        readAt: event.readAt.toISOString(),
        attributes: event.attributes,
        binaryAttributes: Object.keys(event.binaryAttributes),
        members: event.members ? event.members.length : null,
        memberOf: event.memberOf.map((m) => m.dn),
      },
      configVersion: doc.version,
      scoping: 'scoping' in outcome && outcome.scoping ? { inScope: outcome.scoping.inScope, rule: outcome.scoping.rule, detail: outcome.scoping.detail } : null,
      decision:
        outcome.kind === 'op'
          ? { kind: 'op', action: outcome.op.action, sourceAnchor: outcome.op.sourceAnchor, reason: outcome.op.reason }
          : outcome.kind === 'skipped'
            ? { kind: 'skipped', reason: outcome.reason }
            : { kind: 'failed', error: outcome.error },
      mapped: outcome.kind === 'op' ? outcome.mapped : [],
      ...(outcome.kind === 'op' && outcome.members ? { members: outcome.members } : {}),
      result,
    };
  }
}
