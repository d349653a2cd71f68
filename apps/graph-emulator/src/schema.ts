import { readFileSync } from 'node:fs';
import { GraphError, badRequest } from './graph-error.js';

/**
 * Property validation against Microsoft's own CSDL (trimmed copy in ../schema, MIT). The file is
 * read once, from beside the package, so the emulator needs no other project's files.
 */
interface PropDef {
  type: string;
  nullable: boolean;
}
interface TypeDef {
  kind: 'EntityType' | 'ComplexType' | 'EnumType';
  baseType?: string;
  properties?: Record<string, PropDef>;
  navigation?: Record<string, string>;
  members?: string[];
}

const SCHEMA_URL = new URL('../schema/graph-v1.0-directory-types.json', import.meta.url);
const raw = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as { types: Record<string, TypeDef> };
const TYPES = raw.types;

const propsCache = new Map<string, Map<string, PropDef>>();

/** All structural properties of a type, base types included. */
export function propertiesOf(typeName: string): Map<string, PropDef> {
  const cached = propsCache.get(typeName);
  if (cached) return cached;
  const out = new Map<string, PropDef>();
  const chain: TypeDef[] = [];
  for (let t: TypeDef | undefined = TYPES[typeName]; t; t = t.baseType ? TYPES[t.baseType] : undefined) chain.unshift(t);
  for (const t of chain) for (const [k, v] of Object.entries(t.properties ?? {})) out.set(k, v);
  propsCache.set(typeName, out);
  return out;
}

export function navigationOf(typeName: string): Set<string> {
  const out = new Set<string>();
  for (let t: TypeDef | undefined = TYPES[typeName]; t; t = t.baseType ? TYPES[t.baseType] : undefined) {
    for (const k of Object.keys(t.navigation ?? {})) out.add(k);
  }
  return out;
}

/** Case-insensitive lookup of a property name, returning its declared spelling. */
export function canonicalProperty(typeName: string, name: string): string | undefined {
  const props = propertiesOf(typeName);
  if (props.has(name)) return name;
  const lower = name.toLowerCase();
  for (const k of props.keys()) if (k.toLowerCase() === lower) return k;
  return undefined;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const TIME = /^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

export const isGuid = (s: string): boolean => GUID.test(s);

function convertError(expected: string): GraphError {
  return badRequest(`Cannot convert a primitive value to the expected type '${expected}'. See the inner exception for more details.`);
}

/** Extension property declared on an application (type: String, Integer, Boolean, DateTime, Binary, LargeInteger). */
export interface ExtensionDef {
  name: string;
  dataType: string;
  isMultiValued: boolean;
  targetObjects: string[];
}

export function extensionTypeToEdm(def: ExtensionDef): string {
  const base: Record<string, string> = {
    String: 'Edm.String',
    Integer: 'Edm.Int32',
    LargeInteger: 'Edm.Int64',
    Boolean: 'Edm.Boolean',
    DateTime: 'Edm.DateTimeOffset',
    Binary: 'Edm.Binary',
  };
  const edm = base[def.dataType] ?? 'Edm.String';
  return def.isMultiValued ? `Collection(${edm})` : edm;
}

/** Check one value against an OData type name; throws Graph's conversion errors. */
export function checkValue(type: string, value: unknown, nullable: boolean, path: string): void {
  if (value === null) {
    if (!nullable) throw badRequest(`A null value was found for the property named '${path}', which has the expected type '${type.replace(/^graph\./, 'microsoft.graph.')}[Nullable=False]'. The expected type '${type.replace(/^graph\./, 'microsoft.graph.')}[Nullable=False]' does not allow null values.`);
    return;
  }
  const coll = /^Collection\((.+)\)$/.exec(type);
  if (coll) {
    if (!Array.isArray(value)) {
      throw badRequest(`An unexpected '${typeof value === 'object' ? 'StartObject' : 'PrimitiveValue'}' node was found when reading from the JSON reader. A 'StartArray' node was expected.`);
    }
    for (const item of value) checkValue(coll[1]!, item, false, path);
    return;
  }
  if (Array.isArray(value)) {
    throw badRequest(`An unexpected 'StartArray' node was found when reading from the JSON reader. A '${type.startsWith('Edm.') ? 'PrimitiveValue' : 'StartObject'}' node was expected.`);
  }
  switch (type) {
    case 'Edm.String':
      if (typeof value !== 'string') throw convertError('Edm.String');
      return;
    case 'Edm.Boolean':
      if (typeof value !== 'boolean') throw convertError('Edm.Boolean');
      return;
    case 'Edm.Int32':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < -2147483648 || value > 2147483647) throw convertError('Edm.Int32');
      return;
    case 'Edm.Int64':
      if (!((typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value)))) throw convertError('Edm.Int64');
      return;
    case 'Edm.Double':
      if (typeof value !== 'number') throw convertError('Edm.Double');
      return;
    case 'Edm.Guid':
      if (typeof value !== 'string' || !GUID.test(value)) throw badRequest(`Cannot convert the literal '${String(value)}' to the expected type 'Edm.Guid'.`);
      return;
    case 'Edm.DateTimeOffset':
      if (typeof value !== 'string' || !DATETIME.test(value) || Number.isNaN(Date.parse(value))) {
        throw badRequest(`Cannot convert the literal '${String(value)}' to the expected type 'Edm.DateTimeOffset'.`);
      }
      return;
    case 'Edm.TimeOfDay':
      if (typeof value !== 'string' || !TIME.test(value)) throw badRequest(`Cannot convert the literal '${String(value)}' to the expected type 'Edm.TimeOfDay'.`);
      return;
    case 'Edm.Binary':
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw convertError('Edm.Binary');
      return;
  }
  const name = type.replace(/^graph\./, '');
  const def = TYPES[name];
  if (!def) throw new Error(`schema has no type ${type}`);
  if (def.kind === 'EnumType') {
    if (typeof value !== 'string' || !(def.members ?? []).includes(value)) {
      throw badRequest(`Requested value '${String(value)}' was not found.`);
    }
    return;
  }
  if (typeof value !== 'object') {
    throw badRequest(`An unexpected 'PrimitiveValue' node was found when reading from the JSON reader. A 'StartObject' node was expected.`);
  }
  checkObject(name, value as Record<string, unknown>);
}

/** Validate the members of a complex value. */
function checkObject(typeName: string, obj: Record<string, unknown>): void {
  const props = propertiesOf(typeName);
  for (const [key, value] of Object.entries(obj)) {
    if (key === '@odata.type') continue;
    const def = props.get(key);
    if (!def) throw unknownProperty(key, typeName);
    checkValue(def.type, value, def.nullable, key);
  }
}

export function unknownProperty(key: string, typeName: string): GraphError {
  return badRequest(`Property '${key}' does not exist on type 'microsoft.graph.${typeName}'.`);
}
