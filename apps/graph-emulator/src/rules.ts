import { GraphError, badRequest } from './graph-error.js';
import type { RegisteredExtension } from './directory.js';
import { checkValue, extensionTypeToEdm, navigationOf, propertiesOf, unknownProperty } from './schema.js';

/**
 * Write rules of users and groups: which properties exist (CSDL), which are read-only, which are
 * required on create, password complexity, mailNickname syntax. Decided from the v1.0 user and
 * group resource pages (learn.microsoft.com/graph/api/resources/user, .../group).
 */

/** Properties the service computes or other services own; a write naming them is refused. */
export const READ_ONLY: Record<'user' | 'group', Set<string>> = {
  user: new Set([
    'id',
    'deletedDateTime',
    'createdDateTime',
    'creationType',
    'externalUserState',
    'externalUserStateChangeDateTime',
    'lastPasswordChangeDateTime',
    'onPremisesSyncEnabled',
    'onPremisesLastSyncDateTime',
    'onPremisesDistinguishedName',
    'onPremisesDomainName',
    'onPremisesSamAccountName',
    'onPremisesSecurityIdentifier',
    'onPremisesUserPrincipalName',
    'onPremisesProvisioningErrors',
    'proxyAddresses',
    'assignedLicenses',
    'assignedPlans',
    'provisionedPlans',
    'licenseAssignmentStates',
    'imAddresses',
    'securityIdentifier',
    'serviceProvisioningErrors',
    'signInActivity',
    'signInSessionsValidFromDateTime',
    'identityParentId',
    'isManagementRestricted',
    'isResourceAccount',
    'legalAgeGroupClassification',
    'mailboxSettings',
    'print',
    'deviceEnrollmentLimit',
  ]),
  group: new Set([
    'id',
    'deletedDateTime',
    'createdDateTime',
    'expirationDateTime',
    'renewedDateTime',
    'mail',
    'proxyAddresses',
    'onPremisesSyncEnabled',
    'onPremisesLastSyncDateTime',
    'onPremisesDomainName',
    'onPremisesNetBiosName',
    'onPremisesSamAccountName',
    'onPremisesSecurityIdentifier',
    'onPremisesProvisioningErrors',
    'securityIdentifier',
    'serviceProvisioningErrors',
    'assignedLicenses',
    'hasMembersWithLicenseErrors',
    'licenseProcessingState',
    'isArchived',
    'isManagementRestricted',
    'organizationId',
    'onPremisesExtensionAttributes',
    'unseenCount',
    'unseenConversationsCount',
    'unseenMessagesCount',
    'isSubscribedByMail',
    'isFavorite',
    'infoCatalogs',
  ]),
};

/** User properties that live in SharePoint Online, not in the directory (need an SPO licence). */
export const SPO_ONLY = new Set(['aboutMe', 'birthday', 'hireDate', 'interests', 'mySite', 'pastProjects', 'preferredName', 'responsibilities', 'schools', 'skills']);

/** Group properties that only Exchange (Microsoft 365 groups) serves; writable only after create. */
export const EXCHANGE_GROUP_ONLY = new Set(['allowExternalSenders', 'autoSubscribeNewMembers', 'hideFromAddressLists', 'hideFromOutlookClients']);

export const REQUIRED_ON_CREATE: Record<'user' | 'group', string[]> = {
  user: ['accountEnabled', 'displayName', 'mailNickname', 'passwordProfile', 'userPrincipalName'],
  group: ['displayName', 'mailEnabled', 'mailNickname', 'securityEnabled'],
};

/** Default property set of GET without $select (user-get / group-get pages). */
export const DEFAULT_SELECT: Record<'user' | 'group', string[]> = {
  user: ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'],
  group: [
    'id',
    'deletedDateTime',
    'classification',
    'createdDateTime',
    'description',
    'displayName',
    'expirationDateTime',
    'groupTypes',
    'isAssignableToRole',
    'mail',
    'mailEnabled',
    'mailNickname',
    'membershipRule',
    'membershipRuleProcessingState',
    'onPremisesDomainName',
    'onPremisesLastSyncDateTime',
    'onPremisesNetBiosName',
    'onPremisesSamAccountName',
    'onPremisesSecurityIdentifier',
    'onPremisesSyncEnabled',
    'preferredDataLocation',
    'preferredLanguage',
    'proxyAddresses',
    'renewedDateTime',
    'resourceBehaviorOptions',
    'resourceProvisioningOptions',
    'securityEnabled',
    'securityIdentifier',
    'theme',
    'uniqueName',
    'visibility',
    'onPremisesProvisioningErrors',
    'serviceProvisioningErrors',
  ],
};

/** Entra password rules for cloud accounts: 8-256 characters and 3 of 4 character classes. */
export function checkPasswordComplexity(password: unknown): void {
  const fail = (): GraphError =>
    badRequest('The specified password does not comply with password complexity requirements. Please provide a different password.');
  if (typeof password !== 'string') throw fail();
  if (password.length < 8 || password.length > 256) throw fail();
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < 3) throw fail();
}

const NICK_BAD = /[@()\\[\]";:<>,\s]/;

export function checkMailNickname(value: unknown, resource: 'User' | 'Group'): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64 || NICK_BAD.test(value) || /[^\x20-\x7e]/.test(value)) {
    throw badRequest(`Invalid value specified for property 'mailNickname' of resource '${resource}'.`);
  }
}

const UPN_LOCAL = /^[A-Za-z0-9'.\-_!#^~+&$%*/=?`{|}]+$/;

/** UPN syntax and verified-domain check. */
export function checkUserPrincipalName(value: unknown, verifiedDomains: string[]): void {
  if (typeof value !== 'string') throw badRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.");
  const at = value.lastIndexOf('@');
  const local = value.slice(0, at);
  const domain = value.slice(at + 1).toLowerCase();
  if (at <= 0 || !UPN_LOCAL.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..') || local.length > 64 || value.length > 113) {
    throw badRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.");
  }
  if (!verifiedDomains.some((d) => d.toLowerCase() === domain)) {
    throw badRequest('The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.');
  }
}

export interface BodyCheck {
  kind: 'user' | 'group';
  body: Record<string, unknown>;
  extensions: Map<string, RegisteredExtension>;
  creating: boolean;
  /** Current time (extension properties become usable at their `availableAt`). */
  now: number;
}

/**
 * Validate names and value types of a request body, the read-only list and extension
 * properties. Returns the `@odata.bind` annotations found (members/owners) separately.
 */
export function checkBody({ kind, body, extensions, creating, now }: BodyCheck): { props: Record<string, unknown>; binds: Record<string, string[]> } {
  const typeName = kind;
  const props = propertiesOf(typeName);
  const nav = navigationOf(typeName);
  const out: Record<string, unknown> = {};
  const binds: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === '@odata.type') {
      if (value !== `#microsoft.graph.${kind}` && value !== `microsoft.graph.${kind}`) {
        throw badRequest(`A type named '${String(value).replace(/^#/, '')}' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.`, 'BadRequest');
      }
      continue;
    }
    const bind = /^(.+)@odata\.bind$/.exec(key);
    if (bind) {
      const navName = bind[1]!;
      if (!nav.has(navName) && !(kind === 'group' && (navName === 'members' || navName === 'owners'))) throw unknownProperty(navName, typeName);
      if (kind !== 'group' || (navName !== 'members' && navName !== 'owners')) {
        throw badRequest(`Binding '${navName}' is not supported on ${kind} writes.`);
      }
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        throw badRequest(`An unexpected 'PrimitiveValue' node was found when reading from the JSON reader. A 'StartArray' node was expected.`);
      }
      binds[navName] = value as string[];
      continue;
    }
    if (key.includes('@')) throw badRequest(`The property annotation '${key}' is not supported.`, 'BadRequest');
    if (key.startsWith('extension_')) {
      const ext = extensions.get(key);
      const target = kind === 'user' ? 'User' : 'Group';
      if (!ext || !ext.targetObjects.includes(target) || ext.availableAt > now) {
        throw badRequest(`The following extension properties are not available: ${key}.`);
      }
      checkValue(extensionTypeToEdm(ext), value, true, key);
      if (typeof value === 'string' && value.length > 256) {
        throw badRequest(`String value of extension property '${key}' exceeds the maximum length of 256.`);
      }
      out[key] = value;
      continue;
    }
    const def = props.get(key);
    if (!def) {
      if (nav.has(key)) throw badRequest(`Property '${key}' is a navigation property and cannot be set in the body; use @odata.bind or the navigation's own endpoint.`);
      throw unknownProperty(key, typeName);
    }
    if (READ_ONLY[kind].has(key)) throw badRequest(`Property '${key}' is read-only and cannot be set.`);
    if (kind === 'user' && SPO_ONLY.has(key)) throw new GraphError(400, 'BadRequest', 'Tenant does not have a SPO license.');
    if (kind === 'group' && creating && EXCHANGE_GROUP_ONLY.has(key)) {
      throw badRequest(`Property '${key}' can only be set after the group has been created.`);
    }
    if (kind === 'group' && !creating && (key === 'isAssignableToRole')) throw badRequest(`Property '${key}' can only be set when creating the group.`);
    checkValue(def.type, value, def.nullable, key);
    out[key] = value;
  }
  return { props: out, binds };
}

/** Maximum lengths documented on the v1.0 user and group resource pages. */
const MAX_LENGTH: Record<'user' | 'group', Record<string, number>> = {
  user: {
    city: 128,
    companyName: 64,
    country: 128,
    department: 64,
    displayName: 256,
    employeeId: 16,
    givenName: 64,
    jobTitle: 128,
    mailNickname: 64,
    mobilePhone: 64,
    officeLocation: 128,
    postalCode: 40,
    state: 128,
    streetAddress: 1024,
    surname: 64,
  },
  group: { displayName: 256, description: 1024, mailNickname: 64 },
};

/** Value rules beyond the CSDL type: lengths, single business phone, country code, userType. */
export function checkValueRules(kind: 'user' | 'group', props: Record<string, unknown>): void {
  const resource = kind === 'user' ? 'User' : 'Group';
  const invalid = (p: string) => badRequest(`Invalid value specified for property '${p}' of resource '${resource}'.`);
  for (const [p, max] of Object.entries(MAX_LENGTH[kind])) {
    const v = props[p];
    if (typeof v === 'string' && v.length > max) throw invalid(p);
  }
  if (kind === 'user') {
    if (Array.isArray(props.businessPhones) && props.businessPhones.length > 1) {
      throw badRequest('Only one number can be set for the businessPhones property.');
    }
    if (typeof props.usageLocation === 'string' && !/^[A-Z]{2}$/.test(props.usageLocation)) throw invalid('usageLocation');
    if (typeof props.userType === 'string' && props.userType !== 'Member' && props.userType !== 'Guest') throw invalid('userType');
    if (typeof props.onPremisesImmutableId === 'string' && (props.onPremisesImmutableId.length === 0 || props.onPremisesImmutableId.includes('@'))) {
      throw invalid('onPremisesImmutableId');
    }
  }
}
