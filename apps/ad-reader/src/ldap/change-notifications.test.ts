import net from 'node:net';
import { Secret } from '@canopy/config';
import { createLogger } from '@canopy/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeNotificationListener } from './change-notifications.js';

// A server that accepts connections and never answers: the listener hangs in the TLS handshake
// (LDAPS) or in the bind (plain LDAP) until its timeout. stop() must not wait for that timeout.
let server: net.Server | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  sockets.splice(0).forEach((s) => s.destroy());
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

async function silentServer(): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  server = net.createServer((s) => {
    accepted++;
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, accepted: () => accepted };
}

function listener(url: string) {
  return new ChangeNotificationListener(
    {
      url,
      startTls: false,
      allowInsecure: url.startsWith('ldap:'),
      ca: 'not a real CA',
      caFile: undefined,
      tlsServerName: undefined,
      bindDn: 'svc@example.test',
      bindPassword: new Secret('x'),
      timeout: 120_000,
      bases: ['DC=example,DC=test'],
    } as never,
    createLogger({ name: 'test', level: 'silent' }),
    () => undefined,
  );
}

describe('ChangeNotificationListener.stop', () => {
  it.each([
    ['in the TLS handshake (LDAPS)', 'ldaps'],
    ['waiting for the bind answer (LDAP)', 'ldap'],
  ])('ends a session that is stuck %s at once, not after the connection timeout', async (_what, scheme) => {
    const { port, accepted } = await silentServer();
    const l = listener(`${scheme}://127.0.0.1:${port}`);
    l.start();
    while (accepted() === 0) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    // The test's own timeout (10 s) is far below the listener's 120 s connection timeout.
    await expect(l.stop()).resolves.toBeUndefined();
  }, 10_000);
});
