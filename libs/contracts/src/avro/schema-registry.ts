import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { LOGICAL_TYPES } from './logical-types.js';
import { crc64AvroLE } from './rabin.js';

/** Where the .avsc files live: `libs/contracts/schemas/<schema>/v<N>.avsc`, beside src/ and dist/. */
const SCHEMA_DIR = new URL('../../schemas/', import.meta.url);

/** Every schema and every version of it that Canopy has ever written. Never remove a version. */
export const SCHEMA_VERSIONS = {
  'ad-object-event': [1, 2, 3],
  'entra-operation': [1, 2],
  'sync-result': [1],
  'dead-letter': [1],
  'control-command': [1],
  'command-ack': [1],
  'config-document': [1],
  'reader-checkpoint': [1],
} as const;

export type SchemaName = keyof typeof SCHEMA_VERSIONS;

export interface RegisteredSchema {
  name: SchemaName;
  version: number;
  type: avro.Type;
  /** CRC-64-AVRO of the Parsing Canonical Form, little-endian, as single-object encoding writes it. */
  fingerprint: Buffer;
  /** Parsing Canonical Form. */
  canonical: string;
}

function load(name: SchemaName, version: number): RegisteredSchema {
  const url = new URL(`${name}/v${version}.avsc`, SCHEMA_DIR);
  const schema = JSON.parse(readFileSync(url, 'utf8')) as avro.Schema;
  const type = avro.Type.forSchema(schema, { logicalTypes: LOGICAL_TYPES as never, wrapUnions: false });
  // avsc's schema() without options is the Parsing Canonical Form.
  const canonical = JSON.stringify(type.schema());
  return { name, version, type, canonical, fingerprint: crc64AvroLE(Buffer.from(canonical, 'utf8')) };
}

class SchemaRegistry {
  readonly #byFingerprint = new Map<string, RegisteredSchema>();
  readonly #latest = new Map<SchemaName, RegisteredSchema>();
  readonly #all: RegisteredSchema[] = [];

  constructor() {
    for (const [name, versions] of Object.entries(SCHEMA_VERSIONS) as [SchemaName, readonly number[]][]) {
      for (const version of versions) {
        const reg = load(name, version);
        const key = reg.fingerprint.toString('hex');
        if (this.#byFingerprint.has(key)) {
          throw new Error(`schema ${name} v${version} has the same fingerprint as another schema`);
        }
        this.#byFingerprint.set(key, reg);
        this.#all.push(reg);
        const prev = this.#latest.get(name);
        if (!prev || prev.version < version) this.#latest.set(name, reg);
      }
    }
  }

  latest(name: SchemaName): RegisteredSchema {
    return this.#latest.get(name)!;
  }

  version(name: SchemaName, version: number): RegisteredSchema {
    const found = this.#all.find((s) => s.name === name && s.version === version);
    if (!found) throw new Error(`no schema ${name} v${version}`);
    return found;
  }

  byFingerprint(fingerprint: Buffer): RegisteredSchema | undefined {
    return this.#byFingerprint.get(fingerprint.toString('hex'));
  }

  all(): readonly RegisteredSchema[] {
    return this.#all;
  }
}

/** The process-wide registry, built once from the .avsc files. */
export const schemaRegistry = new SchemaRegistry();
