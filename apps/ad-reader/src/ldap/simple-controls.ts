import { Control } from 'ldapts';

/** LDAP_SERVER_SHOW_DELETED_OID: tombstones become visible to searches. No value. */
export const SHOW_DELETED_OID = '1.2.840.113556.1.4.417';
/** LDAP_SERVER_NOTIFICATION_OID: a search that stays open and returns each changed entry. No value. */
export const NOTIFICATION_OID = '1.2.840.113556.1.4.528';

export class ShowDeletedControl extends Control {
  constructor() {
    super(SHOW_DELETED_OID, { critical: true });
  }
}

export class NotificationControl extends Control {
  constructor() {
    super(NOTIFICATION_OID, { critical: true });
  }
}
