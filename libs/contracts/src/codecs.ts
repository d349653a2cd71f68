import { SingleObjectCodec } from './avro/single-object-codec.js';
import type {
  AdObjectEvent,
  CommandAck,
  ConfigDocument,
  ControlCommand,
  DeadLetter,
  EntraOperation,
  ReaderCheckpoint,
  SyncResult,
} from './types.js';

/** One codec per topic value type, each writing the latest schema version and reading all. */
export const codecs = {
  adObjectEvent: new SingleObjectCodec<AdObjectEvent>('ad-object-event'),
  entraOperation: new SingleObjectCodec<EntraOperation>('entra-operation'),
  syncResult: new SingleObjectCodec<SyncResult>('sync-result'),
  deadLetter: new SingleObjectCodec<DeadLetter>('dead-letter'),
  controlCommand: new SingleObjectCodec<ControlCommand>('control-command'),
  commandAck: new SingleObjectCodec<CommandAck>('command-ack'),
  configDocument: new SingleObjectCodec<ConfigDocument>('config-document'),
  readerCheckpoint: new SingleObjectCodec<ReaderCheckpoint>('reader-checkpoint'),
} as const;
