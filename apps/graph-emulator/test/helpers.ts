import { ConfidentialClientApplication } from '@azure/msal-node';
import { Client } from '@microsoft/microsoft-graph-client';
import { startEmulator, trustCaInProcess, type Emulator, type EmulatorApp, type EmulatorOptions } from '../src/main.js';

export async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  const em = await startEmulator(options);
  trustCaInProcess(em.caCertPem);
  return em;
}

export function msalApp(em: Emulator, app: EmulatorApp, how: 'secret' | 'certificate', metadata = false): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: app.clientId,
      authority: em.authority,
      knownAuthorities: [em.knownAuthority],
      ...(metadata ? { authorityMetadata: em.authorityMetadata() } : {}),
      ...(how === 'secret'
        ? { clientSecret: app.clientSecret! }
        : { clientCertificate: { thumbprintSha256: app.thumbprintSha256!, privateKey: app.privateKeyPem! } }),
    },
  });
}

export async function tokenFor(em: Emulator, app: EmulatorApp = em.apps[0]!): Promise<string> {
  const r = await msalApp(em, app, 'secret').acquireTokenByClientCredential({ scopes: [`${em.resource}/.default`] });
  return r!.accessToken;
}

export function graphClient(em: Emulator, token: string | (() => Promise<string>)): Client {
  return Client.initWithMiddleware({
    baseUrl: `${em.graphUrl}/`,
    defaultVersion: 'v1.0',
    customHosts: new Set(['127.0.0.1']),
    authProvider: { getAccessToken: typeof token === 'string' ? async () => token : token },
  });
}

/** Raw fetch against the emulator's Graph surface (to see status and headers as sent). */
export async function call(em: Emulator, token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${em.graphBaseUrl}${path}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

let n = 0;
export function newUser(em: Emulator, extra: Record<string, unknown> = {}): Record<string, unknown> {
  n++;
  const nick = `u${Date.now().toString(36)}${n}`;
  return {
    accountEnabled: true,
    displayName: `User ${nick}`,
    mailNickname: nick,
    userPrincipalName: `${nick}@${em.initialDomain}`,
    passwordProfile: { password: 'Str0ng!Passw0rd', forceChangePasswordNextSignIn: false },
    ...extra,
  };
}

export function newGroup(extra: Record<string, unknown> = {}): Record<string, unknown> {
  n++;
  const nick = `g${Date.now().toString(36)}${n}`;
  return { displayName: `Group ${nick}`, mailEnabled: false, mailNickname: nick, securityEnabled: true, ...extra };
}
