import { TOPICS, codecs, type ReaderCheckpoint } from '@canopy/contracts';
import type { KafkaClient } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';

/**
 * The DirSync cookies of one forest, one per naming context, as last committed to the compacted
 * canopy.reader.checkpoints topic (read_committed: a checkpoint is there only if the events it
 * covers are). Written by EventPublisher inside the events' transaction.
 */
export async function loadCheckpoints(kafka: KafkaClient, forest: string, log: Logger): Promise<Map<string, ReaderCheckpoint>> {
  const out = new Map<string, ReaderCheckpoint>();
  const prefix = `${forest}/`;
  await kafka.readToEnd(TOPICS.readerCheckpoints.name, (m) => {
    const key = m.key?.toString();
    if (!key?.startsWith(prefix)) return;
    if (m.value === null) {
      out.delete(key.slice(prefix.length));
      return;
    }
    try {
      const c = codecs.readerCheckpoint.decode(m.value);
      out.set(c.namingContext.toLowerCase(), c);
    } catch (err) {
      log.error({ err, key }, 'ignoring undecodable checkpoint');
    }
  });
  return out;
}

export function checkpointOf(
  forest: string,
  namingContext: string,
  cookie: Buffer,
  fencingToken: number,
  readerId: string,
  fullSyncCompletedAt: Date | null,
  highestUsn = 0,
): ReaderCheckpoint {
  return { forest, namingContext, cookie, highestUsn, fencingToken, readerId, fullSyncCompletedAt, savedAt: new Date() };
}
