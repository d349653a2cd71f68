/**
 * TypeScript shapes of the latest version of every schema in ../schemas. Keep in step with the
 * .avsc files: the golden tests encode these shapes with the schemas and fail when they drift.
 */
export type AdObjectClass = 'USER' | 'INET_ORG_PERSON' | 'GROUP' | 'CONTACT' | 'OTHER';
export type AdEventKind = 'SNAPSHOT' | 'TOMBSTONE';
export type AdEventOrigin = 'FULL' | 'DELTA' | 'PROVISION';

export interface DnRef {
  /** 16 raw bytes, objectGUID byte order as stored by AD. */
  guid: Buffer;
  dn: string;
}

export interface AdObjectEvent {
  forest: string;
  domain: string;
  objectGuid: Buffer;
  objectClass: AdObjectClass;
  kind: AdEventKind;
  dn: string;
  usnChanged: number;
  readAt: Date;
  readerId: string;
  /** lower-cased attribute name -> values, for attributes whose values are all valid UTF-8 */
  attributes: Record<string, string[]>;
  /** lower-cased attribute name -> values, for binary attributes or any holding non-UTF-8 bytes */
  binaryAttributes: Record<string, Buffer[]>;
  members: DnRef[] | null;
  memberOf: DnRef[];
  lastKnownParent: string | null;
  origin: AdEventOrigin;
  cycleId: string | null;
  /** Deletes in this event's read cycle, the same on every event of it; absent or 0 outside delta cycles. */
  cycleDeletes?: number;
}

export type EntraTargetType = 'USER' | 'GROUP' | 'CONTACT';
export type EntraAction = 'UPSERT' | 'DELETE';
export type GraphValue = null | boolean | number | string | string[];

export interface EntraOperation {
  opId: string;
  forest: string;
  domain: string;
  objectGuid: Buffer;
  sourceAnchor: string;
  dn: string;
  targetType: EntraTargetType;
  action: EntraAction;
  properties: Record<string, GraphValue>;
  createOnly: string[];
  members: string[] | null;
  uniqueCandidates: Record<string, string[]>;
  reason: string | null;
  configVersion: number;
  sourceUsn: number;
  cycleId: string | null;
  emittedAt: Date;
  /** Deletes in the reader cycle that produced the op (AdObjectEvent.cycleDeletes); absent or 0 when unknown. */
  cycleDeletes?: number;
}

export type Stage = 'READER' | 'TRANSFORMER' | 'WRITER';
export type Outcome = 'CREATED' | 'UPDATED' | 'NOOP' | 'DELETED' | 'RESTORED' | 'HELD' | 'SKIPPED' | 'FAILED';

export interface ErrorInfo {
  type: string;
  code: string | null;
  message: string;
  retriable: boolean;
  httpStatus: number | null;
  attribute: string | null;
  expression: string | null;
}

export interface SyncResult {
  resultId: string;
  opId: string | null;
  forest: string;
  objectGuid: Buffer | null;
  sourceAnchor: string | null;
  dn: string | null;
  targetType: string | null;
  stage: Stage;
  outcome: Outcome;
  entraId: string | null;
  reason: string | null;
  error: ErrorInfo | null;
  writes: number;
  changedProperties: string[];
  configVersion: number;
  at: Date;
}

export interface DeadLetter {
  deadLetterId: string;
  stage: Stage;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  reason: string;
  errorType: string;
  retriable: boolean;
  attempts: number;
  at: Date;
}

export type CommandType =
  | 'FULL_SYNC'
  | 'PAUSE'
  | 'RESUME'
  | 'PROVISION'
  | 'APPROVE_DELETES'
  | 'REJECT_DELETES'
  | 'QUARANTINE'
  | 'CLEAR_QUARANTINE'
  | 'DLQ_RETRY'
  | 'REPLAY';

export interface ControlCommand {
  commandId: string;
  command: CommandType;
  forest: string | null;
  target: string | null;
  args: Record<string, string>;
  issuedBy: string;
  issuedAt: Date;
}

export type AckStatus = 'ACCEPTED' | 'COMPLETED' | 'REJECTED' | 'FAILED';

export interface CommandAck {
  commandId: string;
  stage: string;
  instanceId: string;
  status: AckStatus;
  message: string;
  details: Record<string, string>;
  at: Date;
}

export type ConfigKind = 'GLOBAL' | 'FOREST';

export interface ConfigDocument {
  documentId: string;
  kind: ConfigKind;
  version: number;
  body: string;
  sha256: string;
  appliedBy: string;
  appliedAt: Date;
  deleted: boolean;
}

export interface ReaderCheckpoint {
  forest: string;
  namingContext: string;
  cookie: Buffer;
  highestUsn: number;
  fencingToken: number;
  readerId: string;
  fullSyncCompletedAt: Date | null;
  savedAt: Date;
}
