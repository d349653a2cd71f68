import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator, EmulatorApp } from '../src/main.js';
import { call, graphClient, msalApp, newUser, start } from './helpers.js';

let em: Emulator;
let writer: EmulatorApp;
let reader: EmulatorApp;
let nobody: EmulatorApp;

beforeAll(async () => {
  em = await start({
    apps: [
      { displayName: 'writer', secret: true, certificate: true, roles: ['User.ReadWrite.All', 'Group.ReadWrite.All'] },
      { displayName: 'reader', secret: true, roles: ['User.Read.All'] },
      { displayName: 'nobody', secret: true, roles: [] },
    ],
  });
  [writer, reader, nobody] = em.apps as [EmulatorApp, EmulatorApp, EmulatorApp];
});
afterAll(async () => em?.close());

const scopes = (): string[] => [`${em.resource}/.default`];
const claimsOf = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));

describe('identity platform with the real @azure/msal-node', () => {
  it('issues a signed RS256 app token for a client secret (knownAuthorities discovery)', async () => {
    const cca = msalApp(em, writer, 'secret');
    const r = await cca.acquireTokenByClientCredential({ scopes: scopes() });
    expect(r?.accessToken).toBeTruthy();
    const header = JSON.parse(Buffer.from(r!.accessToken.split('.')[0]!, 'base64url').toString('utf8'));
    expect(header.alg).toBe('RS256');
    const c = claimsOf(r!.accessToken);
    expect(c.aud).toBe('https://graph.microsoft.com');
    expect(c.tid).toBe(em.tenantId);
    expect(c.appid).toBe(writer.clientId);
    expect(c.roles).toEqual(['User.ReadWrite.All', 'Group.ReadWrite.All']);
    expect(c.exp - c.iat).toBe(3599);
    const again = await cca.acquireTokenByClientCredential({ scopes: scopes() });
    expect(again?.fromCache).toBe(true);
  });

  it('issues a token for a certificate (PS256 client assertion with x5t#S256)', async () => {
    const r = await msalApp(em, writer, 'certificate').acquireTokenByClientCredential({ scopes: scopes() });
    expect(claimsOf(r!.accessToken).appidacr).toBe('2');
  });

  it('works with authorityMetadata (no discovery)', async () => {
    const before = em.counters.snapshot().tokenRequests.issued;
    const r = await msalApp(em, writer, 'secret', true).acquireTokenByClientCredential({ scopes: scopes() });
    expect(claimsOf(r!.accessToken).appid).toBe(writer.clientId);
    expect(em.counters.snapshot().tokenRequests.issued).toBe(before + 1);
  });

  it('publishes discovery and JWKS that verify the issued token', async () => {
    const conf = await (await fetch(`${em.authority}/v2.0/.well-known/openid-configuration`)).json();
    expect(conf.token_endpoint).toBe(`${em.authority}/oauth2/v2.0/token`);
    const jwks = await (await fetch(conf.jwks_uri)).json();
    expect(jwks.keys[0].kty).toBe('RSA');
  });

  it('refuses a wrong secret, a certificate not registered, an unknown client and a bad scope like AAD', async () => {
    const bad = msalApp(em, { ...writer, clientSecret: 'wrong' }, 'secret');
    await expect(bad.acquireTokenByClientCredential({ scopes: scopes() })).rejects.toThrow(/AADSTS7000215/);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const otherCert = msalApp(em, { ...nobody, thumbprintSha256: writer.thumbprintSha256, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }, 'certificate');
    await expect(otherCert.acquireTokenByClientCredential({ scopes: scopes() })).rejects.toThrow(/AADSTS700027/);
    const forged = msalApp(em, { ...writer, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }, 'certificate');
    await expect(forged.acquireTokenByClientCredential({ scopes: scopes() })).rejects.toThrow(/AADSTS700027/);
    const unknown = msalApp(em, { ...writer, clientId: '11111111-2222-3333-4444-555555555555' }, 'secret');
    await expect(unknown.acquireTokenByClientCredential({ scopes: scopes() })).rejects.toThrow(/AADSTS700016/);
    const res = await fetch(`${em.authority}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: writer.clientId, client_secret: writer.clientSecret!, scope: 'User.Read' }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error_codes).toEqual([1002012]);
  });
});

describe('Graph rejects bad tokens with its own errors', () => {
  const token = async (app: EmulatorApp) => (await msalApp(em, app, 'secret').acquireTokenByClientCredential({ scopes: scopes() }))!.accessToken;

  it('401 InvalidAuthenticationToken when the token is missing', async () => {
    const r = await call(em, undefined, 'GET', '/users');
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('InvalidAuthenticationToken');
    expect(r.body.error.message).toBe('Access token is empty.');
    expect(r.body.error.innerError['request-id']).toBe(r.headers.get('request-id'));
    expect(r.headers.get('client-request-id')).toBeTruthy();
  });

  it('401 for a token signed with another key and for a wrong audience', async () => {
    const good = await token(writer);
    const [h, p] = good.split('.');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), privateKey).toString('base64url')}`;
    const r1 = await call(em, forged, 'GET', '/users');
    expect(r1.status).toBe(401);
    expect(r1.body.error.code).toBe('InvalidAuthenticationToken');
    const wrongAud = em.identity.sign({ ...claimsOf(good), aud: 'https://management.azure.com' });
    const r2 = await call(em, wrongAud, 'GET', '/users');
    expect(r2.status).toBe(401);
    expect(r2.body.error.message).toMatch(/Invalid audience/);
    const r3 = await call(em, 'not-a-jwt', 'GET', '/users');
    expect(r3.status).toBe(401);
  });

  it('403 Authorization_RequestDenied without the needed role', async () => {
    const readerToken = await token(reader);
    const client = graphClient(em, readerToken);
    await expect(client.api('/users').get()).resolves.toBeTruthy();
    const err = await client.api('/users').post(newUser(em)).catch((e: unknown) => e as { statusCode: number; code: string; message: string });
    expect(err).toMatchObject({ statusCode: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });
    const r = await call(em, await token(nobody), 'GET', '/groups');
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('Authorization_RequestDenied');
  });

  it('401 once the token has expired (injected clock, no sleeping)', async () => {
    const t = await token(writer);
    expect((await call(em, t, 'GET', '/users')).status).toBe(200);
    (em.clock as { advance(ms: number): number }).advance(3600 * 1000);
    const r = await call(em, t, 'GET', '/users');
    expect(r.status).toBe(401);
    expect(r.body.error.message).toBe('Lifetime validation failed, the token is expired.');
  });
});

describe('reachable under another name (e.g. a compose service): links follow the Host header', () => {
  it('MSAL and paging work through https://localhost:PORT as well as 127.0.0.1', async () => {
    const port = new URL(em.graphUrl).port;
    const authority = `https://localhost:${port}/${em.tenantId}`;
    const conf = await (await fetch(`${authority}/v2.0/.well-known/openid-configuration`)).json();
    expect(conf.issuer).toBe(`https://localhost:${port}/${em.tenantId}/v2.0`);
    const { ConfidentialClientApplication } = await import('@azure/msal-node');
    const cca = new ConfidentialClientApplication({
      auth: { clientId: writer.clientId, authority, knownAuthorities: [`localhost:${port}`], clientCertificate: { thumbprintSha256: writer.thumbprintSha256!, privateKey: writer.privateKeyPem! } },
    });
    const r = await cca.acquireTokenByClientCredential({ scopes: scopes() });
    for (let i = 0; i < 3; i++) await call(em, r!.accessToken, 'POST', '/users', newUser(em));
    const page = await (await fetch(`https://localhost:${port}/v1.0/users?$top=1`, { headers: { Authorization: `Bearer ${r!.accessToken}` } })).json();
    expect(page['@odata.nextLink']).toMatch(new RegExp(`^https://localhost:${port}/v1.0/users\\?`));
  });
});
