import { Secret } from '@canopy/config';
import { guidToString } from '@canopy/contracts';
import { waitFor } from '@canopy/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeNotificationListener, type ChangeNotification } from '../src/ldap/change-notifications.js';
import { Directory, log, password, runId, stack } from './support/harness.js';

// Integration: the one adapter around ldapts for notification searches, against Samba.
const run = runId();
const { corp } = stack();
let dir: Directory;

beforeAll(async () => {
  dir = await new Directory(corp, `OU=adr-notify-${run},${corp.baseDn}`).open();
});
afterAll(async () => {
  await dir?.cleanup();
});

function listener(url: string, seen: ChangeNotification[], extra: { startTls?: boolean; ca?: string | undefined } = {}) {
  const errors: Error[] = [];
  let connected = 0;
  const l = new ChangeNotificationListener(
    {
      url,
      startTls: extra.startTls ?? false,
      allowInsecure: false,
      ca: 'ca' in extra ? extra.ca : (undefined as string | undefined),
      caFile: 'ca' in extra ? undefined : corp.caFile,
      bindDn: corp.syncAccount.upn,
      bindPassword: new Secret(password(corp.syncAccount.passwordFile)),
      timeout: 5_000,
      bases: [corp.baseDn],
    },
    log,
    (n) => seen.push(n),
    { onConnected: () => connected++, onDisconnected: (e) => errors.push(e) },
  );
  return { l, errors, connected: () => connected };
}

describe('change notifications (LDAP_SERVER_NOTIFICATION_OID) as the least-privilege sync account', () => {
  it.each([
    ['LDAPS', corp.ldapsUrl, false],
    ['StartTLS', corp.ldapUrl, true],
  ])('over %s: a modify is announced with the object GUID at once', async (_name, url, startTls) => {
    const dn = await dir.addUser(`Notify ${startTls ? 'TLS' : 'S'}`);
    const guid = await dir.guidOf(dn);
    const seen: ChangeNotification[] = [];
    const { l, connected } = listener(url as string, seen, { startTls: startTls as boolean });
    l.start();
    try {
      await waitFor('registered', () => connected() > 0);
      const t0 = Date.now();
      await dir.replace(dn, 'description', [`ping ${t0}`]);
      const committed = Date.now();
      // Samba with several prefork LDAP workers re-runs notification searches of other workers
      // only every 5 s (ldapsrv_notification_retry_setup); with one worker it is immediate.
      const hit = await waitFor('notification', () => seen.find((n) => n.objectGuid && guidToString(n.objectGuid) === guid), { timeoutMs: 8_000, intervalMs: 5 });
      expect(hit.dn.toLowerCase()).toBe(dn.toLowerCase());
      console.log(`[ad-reader] notification ${Date.now() - committed} ms after the DC acknowledged the modify`);
    } finally {
      await l.stop();
    }
  });

  it('a delete is announced too (show-deleted), with the tombstone under Deleted Objects', async () => {
    const dn = await dir.addUser('Notify Delete');
    const guid = await dir.guidOf(dn);
    const seen: ChangeNotification[] = [];
    const { l, connected } = listener(corp.ldapsUrl, seen);
    l.start();
    try {
      await waitFor('registered', () => connected() > 0);
      const t0 = Date.now();
      await dir.del(dn);
      const hit = await waitFor('delete notification', () => seen.find((n) => n.objectGuid && guidToString(n.objectGuid) === guid), { timeoutMs: 8_000, intervalMs: 5 });
      expect(hit.dn).toMatch(/CN=Deleted Objects/i);
      console.log(`[ad-reader] delete notification ${Date.now() - t0} ms after the delete was sent`);
    } finally {
      await l.stop();
    }
  });

  it('refuses a DC whose certificate it cannot verify, and keeps retrying', async () => {
    const seen: ChangeNotification[] = [];
    const { l, errors, connected } = listener(corp.ldapsUrl, seen, { ca: undefined });
    l.start();
    try {
      await waitFor('a TLS verification error', () => errors.length > 0, { timeoutMs: 10_000 });
      expect(errors[0]!.message).toMatch(/certificate|self.signed|verify/i);
      expect(connected()).toBe(0);
    } finally {
      await l.stop();
    }
  });
});
