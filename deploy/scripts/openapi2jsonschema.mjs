#!/usr/bin/env node
// Converts Kubernetes' OpenAPI v2 spec (api/openapi-spec/swagger.json of k8s.io/kubernetes) and
// CustomResourceDefinition YAML files into standalone, strict, per-kind JSON schemas, laid out as
// kubeconform expects them (the layout of yannh/kubernetes-json-schema's *-standalone-strict
// folders): <kind lowercased>-<first label of the group, if any>-<version>.json, e.g.
// deployment-apps-v1.json, service-v1.json, networkpolicy-networking-v1.json,
// servicemonitor-monitoring-v1.json, scaledobject-keda-v1alpha1.json.
// Use with: kubeconform -strict -schema-location '<out>/{{ .ResourceKind }}{{ .KindSuffix }}.json'
//
// Same rules as kubeconform's openapi2jsonschema.py (standalone + strict):
// - every $ref is inlined (a reference cycle, as in JSONSchemaProps, becomes {});
// - objects that declare properties and no additionalProperties get additionalProperties: false;
// - int-or-string (format int-or-string, x-kubernetes-int-or-string) becomes oneOf string|integer;
//   resource.Quantity becomes oneOf string|number;
// - apiVersion and kind are pinned with an enum.
// Unlike openapi2jsonschema.py, optional fields do not accept null (a template that renders
// `key:` with no value is a defect we want to see). Descriptions are dropped to keep files small.
//
// Usage: node openapi2jsonschema.mjs --out DIR [--swagger swagger.json] [--crd file.yaml ...]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const args = process.argv.slice(2);
let out;
let swagger;
const crds = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--out') out = args[++i];
  else if (a === '--swagger') swagger = args[++i];
  else if (a === '--crd') crds.push(args[++i]);
  else {
    console.error(`unknown argument ${a}`);
    process.exit(2);
  }
}
if (!out || (!swagger && crds.length === 0)) {
  console.error('usage: openapi2jsonschema.mjs --out DIR [--swagger swagger.json] [--crd file.yaml ...]');
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const INT_OR_STRING = { oneOf: [{ type: 'string' }, { type: 'integer' }] };
const QUANTITY = { oneOf: [{ type: 'string' }, { type: 'number' }] };
const DROP = new Set([
  'description',
  'x-kubernetes-group-version-kind',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-patch-merge-key',
  'x-kubernetes-patch-strategy',
  'x-kubernetes-map-type',
  'x-kubernetes-unions',
  'x-kubernetes-validations',
  'x-kubernetes-embedded-resource',
]);

export function kindSuffix(group, version) {
  return group
    ? `-${group.split('.')[0].toLowerCase()}-${version.toLowerCase()}`
    : `-${version.toLowerCase()}`;
}

/** Recursively converts one schema node; `resolve` inlines a $ref (or returns undefined). */
function convert(node, resolve, stack) {
  if (Array.isArray(node)) return node.map((n) => convert(n, resolve, stack));
  if (node === null || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string') {
    const name = node.$ref.replace(/^#\/definitions\//, '');
    if (name === 'io.k8s.apimachinery.pkg.util.intstr.IntOrString') return structuredClone(INT_OR_STRING);
    if (name === 'io.k8s.apimachinery.pkg.api.resource.Quantity') return structuredClone(QUANTITY);
    if (stack.includes(name)) return {};
    const target = resolve(name);
    if (!target) throw new Error(`unresolved $ref ${node.$ref}`);
    return convert(target, resolve, [...stack, name]);
  }
  if (node.format === 'int-or-string' || node['x-kubernetes-int-or-string'] === true) {
    return structuredClone(INT_OR_STRING);
  }
  const res = {};
  for (const [k, v] of Object.entries(node)) {
    if (DROP.has(k)) continue;
    if (k === 'properties') {
      res.properties = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, convert(s, resolve, stack)]));
    } else if (k === 'nullable' || k === 'x-kubernetes-preserve-unknown-fields') {
      continue;
    } else {
      res[k] = convert(v, resolve, stack);
    }
  }
  if (node.nullable === true && typeof res.type === 'string') res.type = [res.type, 'null'];
  const preserve = node['x-kubernetes-preserve-unknown-fields'] === true;
  if (res.properties && res.additionalProperties === undefined && !preserve) res.additionalProperties = false;
  if ((res.type === 'object' || res.type === undefined) && preserve && !res.properties)
    delete res.additionalProperties;
  return res;
}

function pin(schema, group, version, kind) {
  const apiVersion = group ? `${group}/${version}` : version;
  schema.properties ??= {};
  schema.properties.apiVersion = { type: 'string', enum: [apiVersion] };
  schema.properties.kind = { type: 'string', enum: [kind] };
  schema.$schema = 'http://json-schema.org/draft-07/schema#';
  return schema;
}

const written = [];
function write(group, version, kind, schema) {
  const file = `${kind.toLowerCase()}${kindSuffix(group, version)}.json`;
  writeFileSync(join(out, file), JSON.stringify(pin(schema, group, version, kind)));
  written.push(file);
}

if (swagger) {
  const spec = JSON.parse(readFileSync(swagger, 'utf8'));
  const defs = spec.definitions ?? {};
  const resolve = (name) => defs[name];
  for (const [name, def] of Object.entries(defs)) {
    const gvks = def['x-kubernetes-group-version-kind'];
    if (!Array.isArray(gvks) || !def.properties?.kind) continue;
    // Generic meta kinds (DeleteOptions, WatchEvent) list every group; skip them.
    if (gvks.length !== 1) continue;
    const { group, version, kind } = gvks[0];
    write(group, version, kind, convert(def, resolve, [name]));
  }
}

for (const file of crds) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const crd = doc.toJS();
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    const { group, names, versions } = crd.spec;
    for (const v of versions ?? []) {
      const schema = v.schema?.openAPIV3Schema;
      if (!schema) continue;
      write(
        group,
        v.name,
        names.kind,
        convert(schema, () => undefined, []),
      );
    }
  }
}

console.log(`openapi2jsonschema: wrote ${written.length} schemas to ${out}`);
