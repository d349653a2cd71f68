import {
  ConfigStore,
  GLOBAL_DOCUMENT_ID,
  encodeConfigDocument,
  forestDocumentId,
  forestDocumentSchema,
  globalDocumentSchema,
  publishConfigDocuments,
} from '@canopy/central-config';
import { parseConfig } from '@canopy/config';
import { CanopyError, ConfigError } from '@canopy/errors';
import type { KafkaProducer } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import { diffJson, type Change } from './config-diff.js';
import { parseConfigFile } from './config-file.js';

/** Checks a forest's rules (scoping, mappings) against the tenant; throws ConfigError naming fields. */
export type RulesValidator = (forest: string, rules: unknown, global: unknown) => void;

export interface DocumentPlan {
  documentId: string;
  kind: 'GLOBAL' | 'FOREST';
  status: 'new' | 'changed' | 'unchanged';
  changes: Change[];
  body: unknown;
}

export interface ApplyResult {
  dryRun: boolean;
  fromVersion: number;
  toVersion: number;
  documents: DocumentPlan[];
}

/**
 * `config apply` / `config diff`: validate a whole configuration file (every problem named by
 * document and field), compare it with what canopy.config holds, and publish the changed
 * documents with new versions. Forests absent from the file are left as they are.
 */
export class ConfigApplyService {
  constructor(
    private readonly store: ConfigStore,
    private readonly producer: KafkaProducer,
    private readonly log: Logger,
    private readonly validateRules: RulesValidator,
  ) {}

  current(): { version: number; documents: Record<string, unknown> } {
    const snap = this.store.snapshot();
    const documents: Record<string, unknown> = {};
    const rawGlobal = this.#raw(GLOBAL_DOCUMENT_ID);
    if (rawGlobal !== undefined) documents[GLOBAL_DOCUMENT_ID] = rawGlobal;
    for (const name of snap.forests.keys()) documents[forestDocumentId(name)] = this.#raw(forestDocumentId(name));
    return { version: snap.version, documents };
  }

  #raw(documentId: string): unknown {
    return this.store.rawDocument(documentId);
  }

  plan(text: string): DocumentPlan[] {
    const file = parseConfigFile(text);
    const problems: string[] = [];
    const plans: DocumentPlan[] = [];
    const check = (label: string, fn: () => void) => {
      try {
        fn();
      } catch (err) {
        if (err instanceof CanopyError) problems.push(`${label}: ${err.message.replace(/^invalid configuration:\n\s*- /, '').replace(/\n\s*- /g, `\n${label}: `)}`);
        else throw err;
      }
    };
    const globalBody = file.global ?? this.#raw(GLOBAL_DOCUMENT_ID);
    if (file.global !== undefined) {
      check('global', () => parseConfig(globalDocumentSchema, file.global));
      plans.push(this.#planOne(GLOBAL_DOCUMENT_ID, 'GLOBAL', file.global));
    } else if (globalBody === undefined) {
      problems.push("global: missing: the first configuration must include a 'global' document (tenant, graph)");
    }
    const seen = new Set<string>();
    file.forests.forEach((forest, i) => {
      const label = `forests[${i}]${typeof forest.name === 'string' ? ` (${forest.name})` : ''}`;
      check(label, () => {
        const parsed = parseConfig(forestDocumentSchema, forest);
        if (seen.has(parsed.name)) throw new ConfigError(`name: forest ${parsed.name} is listed twice`);
        seen.add(parsed.name);
        this.validateRules(parsed.name, parsed.rules, globalBody);
        plans.push(this.#planOne(forestDocumentId(parsed.name), 'FOREST', forest));
      });
    });
    if (problems.length) {
      throw new ConfigError(`configuration refused:\n  - ${problems.join('\n  - ')}`, {
        type: 'Config.Invalid',
        details: { problems },
      });
    }
    return plans;
  }

  #planOne(documentId: string, kind: 'GLOBAL' | 'FOREST', body: unknown): DocumentPlan {
    const before = this.#raw(documentId);
    const changes = diffJson(before, body);
    return {
      documentId,
      kind,
      body,
      changes,
      status: before === undefined ? 'new' : changes.length ? 'changed' : 'unchanged',
    };
  }

  async apply(text: string, appliedBy: string, dryRun = false): Promise<ApplyResult> {
    const documents = this.plan(text);
    const fromVersion = this.store.version;
    let version = fromVersion;
    const toPublish = documents
      .filter((d) => d.status !== 'unchanged')
      .map((d) => encodeConfigDocument({ kind: d.kind, body: d.body }, ++version, appliedBy));
    if (!dryRun && toPublish.length) {
      await publishConfigDocuments(this.producer, toPublish);
      await this.store.waitForVersion(version, 15_000);
      this.log.info({ appliedBy, fromVersion, toVersion: version, documents: toPublish.map((d) => d.document.documentId) }, 'configuration applied');
    }
    return { dryRun, fromVersion, toVersion: dryRun ? fromVersion : version, documents };
  }
}
