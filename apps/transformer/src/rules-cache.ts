import type { ConfigSnapshot } from '@canopy/central-config';
import type { CanopyError } from '@canopy/errors';
import { rulesFromConfig, type ForestRules } from '@canopy/sync-rules';

export type RulesLookup =
  | { ok: true; rules: ForestRules; configVersion: number }
  | { ok: false; reason: string; error?: CanopyError };

/**
 * Compiled rules per forest, recompiled only when the forest's document or the global document
 * changes (expressions and regexes are compiled once, not per object).
 */
export class RulesCache {
  readonly #cache = new Map<string, { key: string; lookup: RulesLookup }>();

  get(forest: string, snapshot: ConfigSnapshot): RulesLookup {
    const doc = snapshot.forests.get(forest);
    if (!doc) return { ok: false, reason: `no configuration for forest ${forest} in canopy.config` };
    if (!snapshot.global) return { ok: false, reason: 'no global configuration (tenant) in canopy.config' };
    const tenant = snapshot.global.tenant;
    const key = `${doc.version}:${tenant.initialDomain}:${tenant.verifiedDomains.join(',')}`;
    const hit = this.#cache.get(forest);
    if (hit?.key === key) return hit.lookup;
    let lookup: RulesLookup;
    try {
      lookup = { ok: true, rules: rulesFromConfig(forest, doc.rules, tenant), configVersion: doc.version };
    } catch (err) {
      lookup = { ok: false, reason: `forest ${forest}: rules do not compile: ${(err as Error).message}`, error: err as CanopyError };
    }
    this.#cache.set(forest, { key, lookup });
    return lookup;
  }
}
