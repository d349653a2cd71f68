import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, graphClient, newGroup, start, tokenFor } from './helpers.js';

describe('state directory', () => {
  it('keeps the CA, tenant, signing key and app credentials across restarts', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'graph-emulator-restart-'));
    const first = await start({ stateDir });
    const token = await tokenFor(first);
    const before = { ca: first.caCertPem, tenant: first.tenantId, app: first.apps[0]!.clientId, secret: first.apps[0]!.clientSecret, thumb: first.apps[0]!.thumbprintSha256 };
    const port = Number(new URL(first.graphUrl).port);
    await first.close();
    const second = await start({ stateDir, graphPort: port });
    try {
      expect({ ca: second.caCertPem, tenant: second.tenantId, app: second.apps[0]!.clientId, secret: second.apps[0]!.clientSecret, thumb: second.apps[0]!.thumbprintSha256 }).toEqual(before);
      // a token issued before the restart is still valid (same signing key, same port); the first
      // try may hit a pooled keep-alive socket the old server closed, as any client would
      const r = await call(second, token, 'GET', '/users').catch(() => call(second, token, 'GET', '/users'));
      expect(r.status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('GroupMember.ReadWrite.All is enough to add members with members@odata.bind, not to rename the group', async () => {
    const em = await start({
      apps: [
        { displayName: 'owner', secret: true, roles: ['Group.ReadWrite.All', 'User.ReadWrite.All'] },
        { displayName: 'member-manager', secret: true, roles: ['GroupMember.ReadWrite.All', 'User.Read.All'] },
      ],
    });
    try {
      const owner = graphClient(em, await tokenFor(em, em.apps[0]!));
      const g = await owner.api('/groups').post(newGroup());
      const u = await owner.api('/users').post({ accountEnabled: true, displayName: 'm', mailNickname: 'mm1', userPrincipalName: `mm1@${em.initialDomain}`, passwordProfile: { password: 'Aa1!aaaaaa' } });
      const t = await tokenFor(em, em.apps[1]!);
      expect((await call(em, t, 'PATCH', `/groups/${g.id}`, { 'members@odata.bind': [`https://graph.microsoft.com/v1.0/directoryObjects/${u.id}`] })).status).toBe(204);
      expect((await call(em, t, 'PATCH', `/groups/${g.id}`, { displayName: 'renamed' })).status).toBe(403);
    } finally {
      await em.close();
    }
  });
});
