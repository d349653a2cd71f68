import { createHash } from 'node:crypto';
import { adObjectsTopic, codecs, guidToString, type AdObjectEvent } from '@canopy/contracts';
import type { KafkaClient } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';

/**
 * What this forest's events topic already holds, per object: the usnChanged and a digest of the
 * content of the last event committed for it. A delta that reads an object back in a state already
 * on the topic (same or older usnChanged, same content) does not send it again: that happens when
 * a change lands between DirSync's answer and the re-read (the re-read already shows it, the next
 * DirSync reports it again), and after a fail-over, when the new active reader pulls from the last
 * checkpoint and reads back objects the old one had sent. A new active reader learns the states
 * from the tail of the topic (committed events only), so nothing the topic lacks is ever skipped.
 *
 * The digest covers everything a stage reads (DN, attributes, members, memberOf): an object whose
 * membership or DN changed without a new usnChanged (backlinks, a parent renamed) is sent.
 */
export class EmittedStates {
  readonly #states = new Map<string, { usn: number; digest: string }>();

  constructor(private readonly capacity = 200_000) {}

  get size(): number {
    return this.#states.size;
  }

  /** True when the topic already holds this state of the object (or a newer one with the same content). */
  alreadySent(e: AdObjectEvent): boolean {
    if (!e.usnChanged) return false;
    const s = this.#states.get(guidToString(e.objectGuid));
    return !!s && s.usn >= e.usnChanged && s.digest === digestOf(e);
  }

  remember(e: AdObjectEvent): void {
    this.#set(guidToString(e.objectGuid), e.usnChanged, digestOf(e));
  }

  #set(guid: string, usn: number, digest: string): void {
    this.#states.delete(guid);
    this.#states.set(guid, { usn, digest });
    if (this.#states.size > this.capacity) this.#states.delete(this.#states.keys().next().value!);
  }

  /** Learn the last `tail` events of every partition of the forest's topic. Never throws. */
  async learn(kafka: KafkaClient, forest: string, tail: number, log: Logger): Promise<number> {
    const topic = adObjectsTopic(forest);
    let n = 0;
    try {
      const marks = await kafka.admin().topicOffsets(topic);
      const from = new Map(marks.map((m) => [m.partition, BigInt(m.high) - BigInt(tail) > BigInt(m.low) ? BigInt(m.high) - BigInt(tail) : BigInt(m.low)]));
      await kafka.readRange(topic, from, (messages) => {
        for (const m of messages) {
          if (!m.value) continue;
          try {
            this.remember(codecs.adObjectEvent.decode(m.value));
            n++;
          } catch {
            // Not ours to judge here: the transformer dead-letters what it cannot decode.
          }
        }
      });
    } catch (err) {
      log.warn({ err: (err as Error).message, topic }, 'could not read the tail of the events topic: objects read back unchanged may be sent again (harmless downstream)');
    }
    return n;
  }
}

/** Digest of what an event says about its object (not when, by whom or why it was read). */
export function digestOf(e: AdObjectEvent): string {
  const h = createHash('sha1');
  h.update(`${e.kind}\0${e.objectClass}\0${e.dn}\0${e.lastKnownParent ?? ''}\0`);
  for (const k of Object.keys(e.attributes).sort()) h.update(`a:${k}=${JSON.stringify(e.attributes[k])}\0`);
  for (const k of Object.keys(e.binaryAttributes).sort()) for (const v of e.binaryAttributes[k] ?? []) h.update(`b:${k}=`).update(v).update('\0');
  h.update(`m:${JSON.stringify(e.members)}\0o:${JSON.stringify(e.memberOf)}`);
  return h.digest('base64');
}
