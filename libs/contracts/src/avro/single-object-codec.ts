import { DecodeError } from '@canopy/errors';
import type avro from 'avsc';
import { schemaRegistry, type RegisteredSchema, type SchemaName } from './schema-registry.js';

/** Avro single-object encoding: C3 01, 8-byte little-endian CRC-64-AVRO fingerprint, then the body. */
export const SINGLE_OBJECT_MARKER = Buffer.from([0xc3, 0x01]);
const HEADER_LENGTH = 10;

/**
 * Encodes values with the latest version of one schema and decodes values written with any
 * version of it, resolving old writer schemas to the latest reader schema (defaults filled in).
 * Decoding never throws anything but a DecodeError (permanent, typed).
 */
export class SingleObjectCodec<T> {
  readonly schema: RegisteredSchema;
  readonly #resolvers = new Map<string, avro.Resolver | null>();

  constructor(readonly name: SchemaName, version?: number) {
    this.schema = version === undefined ? schemaRegistry.latest(name) : schemaRegistry.version(name, version);
  }

  encode(value: T): Buffer {
    let body: Buffer;
    try {
      body = this.schema.type.toBuffer(value);
    } catch (err) {
      const paths: string[] = [];
      this.schema.type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') });
      throw new DecodeError(`cannot encode ${this.name}: invalid field(s) ${paths.join(', ') || '?'}`, {
        type: 'Contracts.InvalidValue',
        cause: err,
        details: { schema: this.name, fields: paths },
      });
    }
    return Buffer.concat([SINGLE_OBJECT_MARKER, this.schema.fingerprint, body]);
  }

  decode(message: Buffer | Uint8Array | null | undefined): T {
    if (!message || message.length < HEADER_LENGTH) {
      throw new DecodeError(
        `cannot decode ${this.name}: message is ${message ? `${message.length} bytes` : 'empty'}, shorter than the 10-byte single-object header`,
        { type: 'Contracts.Truncated', details: { schema: this.name } },
      );
    }
    const buf = Buffer.isBuffer(message) ? message : Buffer.from(message.buffer, message.byteOffset, message.length);
    if (buf[0] !== 0xc3 || buf[1] !== 0x01) {
      throw new DecodeError(
        `cannot decode ${this.name}: not Avro single-object encoding (marker ${buf.subarray(0, 2).toString('hex')}, expected c301)`,
        { type: 'Contracts.NotSingleObject', details: { schema: this.name } },
      );
    }
    const fingerprint = buf.subarray(2, HEADER_LENGTH);
    const writer = schemaRegistry.byFingerprint(fingerprint);
    if (!writer) {
      throw new DecodeError(
        `cannot decode ${this.name}: unknown schema fingerprint ${fingerprint.toString('hex')} (written by a newer or foreign producer?)`,
        { type: 'Contracts.UnknownFingerprint', details: { schema: this.name, fingerprint: fingerprint.toString('hex') } },
      );
    }
    if (writer.name !== this.name) {
      throw new DecodeError(
        `cannot decode ${this.name}: message was written as ${writer.name} v${writer.version}`,
        { type: 'Contracts.WrongSchema', details: { schema: this.name, writer: `${writer.name}@v${writer.version}` } },
      );
    }
    const resolver = this.#resolver(writer);
    try {
      return (resolver
        ? this.schema.type.fromBuffer(buf.subarray(HEADER_LENGTH), resolver)
        : this.schema.type.fromBuffer(buf.subarray(HEADER_LENGTH))) as T;
    } catch (err) {
      throw new DecodeError(
        `cannot decode ${this.name} v${writer.version}: corrupt body (${(err as Error).message})`,
        { type: 'Contracts.CorruptBody', cause: err, details: { schema: this.name, writerVersion: writer.version } },
      );
    }
  }

  #resolver(writer: RegisteredSchema): avro.Resolver | null {
    const key = writer.fingerprint.toString('hex');
    if (!this.#resolvers.has(key)) {
      this.#resolvers.set(
        key,
        writer === this.schema ? null : this.schema.type.createResolver(writer.type),
      );
    }
    return this.#resolvers.get(key)!;
  }
}
