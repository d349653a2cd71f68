import type { MappingConfig } from './config.js';

/**
 * Default attribute mappings, equivalent to what Entra Cloud Sync (AD2AADProvisioning) and
 * Entra Connect's "In from AD - User/Group" rules flow, written in the expression language so
 * `canopy explain` shows them like any admin mapping. Targets are Graph v1.0 property names.
 *
 * Canopy virtual attributes (not in AD): [dn] the object's DN, [domain] its domain's DNS name,
 * [forest], [sourceAnchor] (base64 of ms-DS-ConsistencyGuid, else objectGUID: Entra's
 * onPremisesImmutableId).
 */

/** Graph's mailNickname rejects @ ( ) \ [ ] " ; : < > , space and non-ASCII: drop them after normalizing diacritics. */
export const MAIL_NICKNAME_CLEANUP = String.raw`"[^\x21-\x7E]|[@()\\\\\[\]\";:<>,]"`;

const nickname = (sources: string) => `Replace(NormalizeDiacritics(Coalesce(${sources})), , ${MAIL_NICKNAME_CLEANUP}, , "", , )`;

const direct = (target: string, source: string): MappingConfig => ({ type: 'direct', target, source, apply: 'always' });
const expression = (target: string, expr: string): MappingConfig => ({ type: 'expression', target, expression: expr, apply: 'always' });

/**
 * Entra Connect's "In from AD" rules trim values and cut them to the maximum lengths Graph
 * documents (Left(Trim([givenName]),64) ...), so a long AD value flows shortened instead of
 * failing the whole object. Identifiers (employeeId, UPN, mail) are never cut.
 */
const trimmed = (target: string, source: string, max: number): MappingConfig => expression(target, `Left(Trim([${source}]), ${max})`);

export const DEFAULT_USER_MAPPINGS: readonly MappingConfig[] = [
  direct('onPremisesImmutableId', 'sourceAnchor'),
  expression(
    'userPrincipalName',
    'IIF(IsPresent([userPrincipalName]), [userPrincipalName], IIF(IsPresent([sAMAccountName]), Join("@", [sAMAccountName], [domain]), ""))',
  ),
  expression('displayName', 'Left(Trim(Coalesce([displayName], [cn], [sAMAccountName])), 256)'),
  expression('mailNickname', `Left(${nickname('[mailNickname], [sAMAccountName]')}, 64)`),
  // Verbatim from Cloud Sync's AD2AADProvisioning schema: userAccountControl bit 2 is ACCOUNTDISABLE;
  // without userAccountControl (AD LDS, inetOrgPerson) it falls back to accountDisabled.
  expression('accountEnabled', 'IIF(IsPresent([userAccountControl]), IIF(BitAnd([userAccountControl], 2)="0", "True", "False"), Not([accountDisabled]))'),
  trimmed('givenName', 'givenName', 64),
  trimmed('surname', 'sn', 64),
  trimmed('jobTitle', 'title', 128),
  trimmed('department', 'department', 64),
  trimmed('companyName', 'company', 64),
  direct('employeeId', 'employeeID'),
  direct('employeeType', 'employeeType'),
  direct('mail', 'mail'),
  direct('businessPhones', 'telephoneNumber'),
  trimmed('mobilePhone', 'mobile', 64),
  direct('faxNumber', 'facsimileTelephoneNumber'),
  trimmed('officeLocation', 'physicalDeliveryOfficeName', 128),
  trimmed('streetAddress', 'streetAddress', 1024),
  trimmed('city', 'l', 128),
  trimmed('state', 'st', 128),
  trimmed('postalCode', 'postalCode', 40),
  trimmed('country', 'co', 128),
  direct('preferredLanguage', 'preferredLanguage'),
  direct('proxyAddresses', 'proxyAddresses'),
  direct('onPremisesSamAccountName', 'sAMAccountName'),
  expression('onPremisesSecurityIdentifier', 'StringFromSID([objectSid])'),
  direct('onPremisesDomainName', 'domain'),
  direct('onPremisesDistinguishedName', 'dn'),
  direct('onPremisesUserPrincipalName', 'userPrincipalName'),
];

export const DEFAULT_GROUP_MAPPINGS: readonly MappingConfig[] = [
  expression('displayName', 'Left(Trim(Coalesce([displayName], [cn], [sAMAccountName])), 256)'),
  trimmed('description', 'description', 1024),
  expression('mailNickname', `Left(${nickname('[mailNickname], [sAMAccountName], [cn]')}, 64)`),
  // Only security groups that are not mail-enabled reach mapping (see transform); Graph needs both flags on create.
  { type: 'constant', target: 'securityEnabled', value: true, apply: 'always' },
  { type: 'constant', target: 'mailEnabled', value: false, apply: 'always' },
  direct('onPremisesSamAccountName', 'sAMAccountName'),
  expression('onPremisesSecurityIdentifier', 'StringFromSID([objectSid])'),
  direct('onPremisesDomainName', 'domain'),
];
