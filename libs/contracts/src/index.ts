export * from './types.js';
export * from './topics.js';
export * from './guid.js';
export * from './codecs.js';
export { SingleObjectCodec, SINGLE_OBJECT_MARKER } from './avro/single-object-codec.js';
export { schemaRegistry, SCHEMA_VERSIONS, type SchemaName, type RegisteredSchema } from './avro/schema-registry.js';
export { crc64Avro } from './avro/rabin.js';
export { sampleMessages } from './fixtures.js';
