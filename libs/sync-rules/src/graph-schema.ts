import { readFileSync } from 'node:fs';

/**
 * Microsoft Graph v1.0 `user` and `group` properties (trimmed CSDL in ../graph-schema, MIT),
 * used to check mapping targets when configuration loads. Read once, from beside the package,
 * so it works from src (tests) and dist alike.
 */
interface PropDef {
  type: string;
  nullable: boolean;
}
interface TypeDef {
  kind: string;
  baseType?: string;
  properties?: Record<string, PropDef>;
}

const raw = JSON.parse(readFileSync(new URL('../graph-schema/graph-v1.0-sync-targets.json', import.meta.url), 'utf8')) as {
  types: Record<string, TypeDef>;
};

export type GraphEntity = 'user' | 'group' | 'orgContact';

/**
 * How a property can be written:
 * - 'writable': Graph accepts it on POST/PATCH of /users or /groups.
 * - 'syncOnly': Graph documents it as read-only on those endpoints, but it is what Microsoft's
 *   own directory synchronization sets (proxyAddresses, onPremises* identity facts). Cloud Sync
 *   maps them by default, so Canopy maps them too, and the writer decides how to apply them
 *   (`isSyncOnly` tells it which ones).
 * - 'readOnly': managed by the service (ids, timestamps, licensing state, sign-in activity...);
 *   a mapping to it is a configuration error.
 * Classification from the "Properties" tables of Graph's user and group resource pages.
 */
export type PropertyAccess = 'writable' | 'syncOnly' | 'readOnly';

const READ_ONLY: Record<GraphEntity, ReadonlySet<string>> = {
  user: new Set([
    'id', 'deletedDateTime', 'createdDateTime', 'assignedPlans', 'assignedLicenses', 'provisionedPlans', 'licenseAssignmentStates',
    'signInActivity', 'externalUserState', 'externalUserStateChangeDateTime', 'creationType', 'lastPasswordChangeDateTime',
    'signInSessionsValidFromDateTime', 'onPremisesSyncEnabled', 'onPremisesLastSyncDateTime', 'onPremisesProvisioningErrors',
    'serviceProvisioningErrors', 'isManagementRestricted', 'isResourceAccount', 'identityParentId', 'securityIdentifier',
    'legalAgeGroupClassification', 'mailboxSettings', 'print', 'customSecurityAttributes', 'authorizationInfo',
    'deviceEnrollmentLimit', 'mySite',
  ]),
  group: new Set([
    'id', 'deletedDateTime', 'createdDateTime', 'renewedDateTime', 'expirationDateTime', 'assignedLicenses', 'licenseProcessingState',
    'hasMembersWithLicenseErrors', 'mail', 'onPremisesSyncEnabled', 'onPremisesLastSyncDateTime', 'onPremisesProvisioningErrors',
    'serviceProvisioningErrors', 'securityIdentifier', 'isArchived', 'isFavorite', 'isSubscribedByMail', 'unseenCount',
    'unseenConversationsCount', 'unseenMessagesCount', 'accessType', 'allowExternalSenders', 'autoSubscribeNewMembers',
    'hideFromAddressLists', 'hideFromOutlookClients', 'isManagementRestricted', 'membershipRuleProcessingState', 'organizationId',
    'infoCatalogs', 'resourceBehaviorOptions', 'resourceProvisioningOptions', 'uniqueName', 'welcomeMessageEnabled',
  ]),
  orgContact: new Set(['id', 'deletedDateTime', 'onPremisesSyncEnabled', 'onPremisesLastSyncDateTime', 'onPremisesProvisioningErrors', 'serviceProvisioningErrors']),
};

const SYNC_ONLY = new Set([
  'proxyAddresses',
  'onPremisesDistinguishedName',
  'onPremisesDomainName',
  'onPremisesSamAccountName',
  'onPremisesSecurityIdentifier',
  'onPremisesUserPrincipalName',
  'onPremisesNetBiosName',
]);

const cache = new Map<GraphEntity, Map<string, PropDef & { name: string }>>();

/** Structural properties of an entity, base types included, keyed by lower-cased name. */
export function graphProperties(entity: GraphEntity): Map<string, PropDef & { name: string }> {
  const hit = cache.get(entity);
  if (hit) return hit;
  const chain: TypeDef[] = [];
  for (let t: TypeDef | undefined = raw.types[entity]; t; t = t.baseType ? raw.types[t.baseType] : undefined) chain.unshift(t);
  const out = new Map<string, PropDef & { name: string }>();
  for (const t of chain) for (const [name, def] of Object.entries(t.properties ?? {})) out.set(name.toLowerCase(), { ...def, name });
  cache.set(entity, out);
  return out;
}

export interface TargetInfo {
  /** Property name as Graph spells it ("onPremisesExtensionAttributes.extensionAttribute1" for a member of a complex property). */
  name: string;
  /** OData type: Edm.String, Edm.Boolean, Collection(Edm.String), ... */
  type: string;
  nullable: boolean;
  access: PropertyAccess;
  /** True for a complex property itself (map its members as "parent.member" instead). */
  complex?: boolean;
}

/**
 * Resolve a mapping target (case-insensitive) on a Graph entity. A member of a complex property
 * is written "parent.member" (onPremisesExtensionAttributes.extensionAttribute1). Returns null
 * for a property Graph does not have.
 */
export function resolveTarget(entity: GraphEntity, target: string): TargetInfo | null {
  const [head, member, ...rest] = target.split('.');
  if (rest.length) return null;
  const prop = graphProperties(entity).get(head!.toLowerCase());
  if (!prop) return null;
  const access: PropertyAccess = READ_ONLY[entity].has(prop.name) ? 'readOnly' : SYNC_ONLY.has(prop.name) ? 'syncOnly' : 'writable';
  if (member === undefined) {
    if (prop.type.startsWith('graph.') && raw.types[prop.type.slice(6)]?.kind === 'ComplexType') {
      return { name: prop.name, type: prop.type, nullable: prop.nullable, access, complex: true };
    }
    return { name: prop.name, type: prop.type, nullable: prop.nullable, access };
  }
  const complex = raw.types[prop.type.replace(/^graph\./, '')];
  if (!complex || complex.kind !== 'ComplexType') return null;
  const sub = Object.entries(complex.properties ?? {}).find(([n]) => n.toLowerCase() === member.toLowerCase());
  if (!sub) return null;
  return { name: `${prop.name}.${sub[0]}`, type: sub[1].type, nullable: sub[1].nullable, access };
}

/** True for properties Graph's /users and /groups endpoints treat as read-only but directory sync sets (see PropertyAccess). */
export function isSyncOnly(property: string): boolean {
  return SYNC_ONLY.has(property);
}
