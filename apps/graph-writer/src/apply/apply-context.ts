import type { EntraOperation, ErrorInfo, Outcome } from '@canopy/contracts';
import type { Logger } from '@canopy/logger';
import type { GraphClient } from '../graph/graph-client.js';
import type { GraphReader } from '../graph/graph-reader.js';
import type { AnchorIndex, EntraKind } from '../state/anchor-index.js';
import type { AppliedState } from '../state/applied-state.js';
import type { BatchExecutor, WriteMeter } from './batch-executor.js';

/** What the apply modules share. */
export interface ApplySettings {
  softMatch: boolean;
  /** extension_<appId>_canopyAnchor */
  anchorProperty: string;
  replicationWaitMs: number;
  memberRetries: number;
  memberBackoffMs: number;
}

export interface ApplyContext {
  graph: GraphClient;
  reader: GraphReader;
  executor: BatchExecutor;
  anchors: AnchorIndex;
  applied: AppliedState;
  settings: () => ApplySettings;
  log: Logger;
}

/** What applying one op came to (the writer turns it into a SyncResult). */
export interface ApplyOutcome {
  outcome: Outcome;
  entraId: string | null;
  reason: string | null;
  changedProperties: string[];
  error?: ErrorInfo | null;
}

export interface OpRun {
  op: EntraOperation;
  meter: WriteMeter;
  /** Ignore cached state: look everything up in Graph (a retry after an uncertain outcome). */
  fresh: boolean;
}

export function kindOf(op: EntraOperation): EntraKind | undefined {
  return op.targetType === 'USER' ? 'user' : op.targetType === 'GROUP' ? 'group' : undefined;
}

export const CONTACT_SKIP =
  'contacts (orgContact) cannot be created or updated through Microsoft Graph v1.0; they are managed by Exchange Online';
export const MAIL_GROUP_SKIP =
  'distribution groups and mail-enabled security groups are read-only in Microsoft Graph (managed by Exchange Online)';
