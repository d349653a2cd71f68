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

export const DEFAULT_USER_MAPPINGS: readonly MappingConfig[] = [
  direct('onPremisesImmutableId', 'sourceAnchor'),
  expression(
    'userPrincipalName',
    'IIF(IsPresent([userPrincipalName]), [userPrincipalName], IIF(IsPresent([sAMAccountName]), Join("@", [sAMAccountName], [domain]), ""))',
  ),
  expression('displayName', 'Coalesce([displayName], [cn], [sAMAccountName])'),
  expression('mailNickname', nickname('[mailNickname], [sAMAccountName]')),
  // Verbatim from Cloud Sync's AD2AADProvisioning schema: userAccountControl bit 2 is ACCOUNTDISABLE;
  // without userAccountControl (AD LDS, inetOrgPerson) it falls back to accountDisabled.
  expression('accountEnabled', 'IIF(IsPresent([userAccountControl]), IIF(BitAnd([userAccountControl], 2)="0", "True", "False"), Not([accountDisabled]))'),
  direct('givenName', 'givenName'),
  direct('surname', 'sn'),
  direct('jobTitle', 'title'),
  direct('department', 'department'),
  direct('companyName', 'company'),
  direct('employeeId', 'employeeID'),
  direct('employeeType', 'employeeType'),
  direct('mail', 'mail'),
  direct('businessPhones', 'telephoneNumber'),
  direct('mobilePhone', 'mobile'),
  direct('faxNumber', 'facsimileTelephoneNumber'),
  direct('officeLocation', 'physicalDeliveryOfficeName'),
  direct('streetAddress', 'streetAddress'),
  direct('city', 'l'),
  direct('state', 'st'),
  direct('postalCode', 'postalCode'),
  direct('country', 'co'),
  direct('preferredLanguage', 'preferredLanguage'),
  direct('proxyAddresses', 'proxyAddresses'),
  direct('onPremisesSamAccountName', 'sAMAccountName'),
  expression('onPremisesSecurityIdentifier', 'StringFromSID([objectSid])'),
  direct('onPremisesDomainName', 'domain'),
  direct('onPremisesDistinguishedName', 'dn'),
  direct('onPremisesUserPrincipalName', 'userPrincipalName'),
];

export const DEFAULT_GROUP_MAPPINGS: readonly MappingConfig[] = [
  expression('displayName', 'Coalesce([displayName], [cn], [sAMAccountName])'),
  direct('description', 'description'),
  expression('mailNickname', nickname('[mailNickname], [sAMAccountName], [cn]')),
  // Only security groups that are not mail-enabled reach mapping (see transform); Graph needs both flags on create.
  { type: 'constant', target: 'securityEnabled', value: true, apply: 'always' },
  { type: 'constant', target: 'mailEnabled', value: false, apply: 'always' },
  direct('onPremisesSamAccountName', 'sAMAccountName'),
  expression('onPremisesSecurityIdentifier', 'StringFromSID([objectSid])'),
  direct('onPremisesDomainName', 'domain'),
];
