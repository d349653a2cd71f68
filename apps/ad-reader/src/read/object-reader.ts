import type { Logger } from '@canopy/logger';
import { ExtendedDnControl, parseExtendedDn } from '../ldap/extended-dn.js';
import { andFilter, chunk, guidOrFilterObject } from '../ldap/guid-filter.js';
import type { Filter } from 'ldapts';
import type { LdapConnection, LdapEntry } from '../ldap/ldap-connection.js';
import { ldapResultCode } from '../ldap/ldap-errors.js';
import { findAttributeKey, nextRangeRequest, parseRangedAttribute } from '../ldap/range-retrieval.js';
import { ShowDeletedControl } from '../ldap/simple-controls.js';
import { BINARY_ATTRIBUTES, type RawEntry } from './snapshot-builder.js';
import { IN_SCOPE_FILTER } from './scope.js';

export interface ObjectReaderOptions {
  /** Attributes beyond '*' to read (constructed or operational ones, e.g. msDS-UserAccountControl-Computed). */
  extraAttributes: string[];
  /** GUIDs per `(|(objectGUID=..)...)` search. */
  batchSize: number;
}

/** Multi-valued attributes whose values may come back ranged (MaxValRange). */
const RANGED = ['member'];

/**
 * Reads complete objects: every attribute of '*' plus configured extras, DN values with their
 * GUIDs (extended-DN control), tombstones visible (show-deleted) when reading by GUID or DN,
 * and every value of large groups (range retrieval).
 */
export class ObjectReader {
  constructor(
    private readonly conn: LdapConnection,
    private readonly options: ObjectReaderOptions,
    private readonly log: Logger,
  ) {}

  get attributes(): string[] {
    return ['*', ...this.options.extraAttributes];
  }

  #searchOptions(filter: string | Filter, scope: 'sub' | 'base') {
    return { scope, filter, attributes: this.attributes, explicitBufferAttributes: [...BINARY_ATTRIBUTES] };
  }

  /** Every live in-scope object of a naming context, one page at a time. */
  async *readAll(namingContext: string): AsyncGenerator<RawEntry[]> {
    for await (const page of this.conn.searchPaged(namingContext, this.#searchOptions(IN_SCOPE_FILTER, 'sub'), [new ExtendedDnControl()])) {
      const out: RawEntry[] = [];
      for (const e of page) out.push(await this.completeRanged(e));
      yield out;
    }
  }

  /** The objects with these GUIDs (live or tombstones) under a naming context; missing ones are simply absent. */
  async readByGuids(namingContext: string, guids: Buffer[]): Promise<RawEntry[]> {
    const out: RawEntry[] = [];
    for (const batch of chunk(guids, this.options.batchSize)) {
      const entries = await this.conn.search(namingContext, this.#searchOptions(andFilter(IN_SCOPE_FILTER, guidOrFilterObject(batch)), 'sub'), [
        new ExtendedDnControl(),
        new ShowDeletedControl(),
      ]);
      for (const e of entries) out.push(await this.completeRanged(e));
    }
    return out;
  }

  /** One object by DN (live or tombstone); null when there is none. */
  async readByDn(dn: string): Promise<RawEntry | null> {
    try {
      const entries = await this.conn.search(dn, this.#searchOptions(IN_SCOPE_FILTER, 'base'), [new ExtendedDnControl(), new ShowDeletedControl()]);
      return entries[0] ? await this.completeRanged(entries[0]) : null;
    } catch (err) {
      if (ldapResultCode((err as Error).cause) === 32 || (err as { details?: { resultCode?: number } }).details?.resultCode === 32) return null;
      throw err;
    }
  }

  /**
   * Replace `member;range=0-1499` (and the like) by the complete `member` list, fetching
   * `member;range=1500-*`, ... with base searches until a range ends with `*`.
   */
  async completeRanged(entry: LdapEntry): Promise<RawEntry> {
    const raw = entry as RawEntry;
    for (const attr of RANGED) {
      const found = findAttributeKey(Object.keys(raw), attr);
      if (!found?.range) continue;
      const values: Array<string | Buffer> = [...asList(raw[found.key])];
      delete raw[found.key];
      let range = found.range;
      let next = nextRangeRequest(range, values.length);
      const dn = parseExtendedDn(raw.dn).dn;
      let rounds = 0;
      while (next) {
        if (++rounds > 10_000) throw new Error(`range retrieval of ${attr} on ${dn} does not end`);
        const [page] = await this.conn.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: [next] }, [
          new ExtendedDnControl(),
          new ShowDeletedControl(),
        ]);
        const key = page ? findAttributeKey(Object.keys(page), attr) : null;
        if (!page || !key) break;
        const got = asList(page[key.key] as RawEntry[string]);
        values.push(...got);
        if (!key.range) break;
        range = key.range;
        next = nextRangeRequest(range, got.length);
      }
      raw[attr] = values;
      this.log.debug({ dn, attr, values: values.length }, 'range retrieval complete');
    }
    // A ranged key left over (other attributes) must not leak as a strange attribute name.
    for (const key of Object.keys(raw)) if (parseRangedAttribute(key)) delete raw[key];
    return raw;
  }
}

function asList(v: RawEntry[string] | undefined): Array<string | Buffer> {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}
