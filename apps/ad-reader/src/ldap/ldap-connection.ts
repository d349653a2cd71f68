import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Secret } from '@canopy/config';
import type { Logger } from '@canopy/logger';
import { Client, type Control, type Entry, type SearchOptions } from 'ldapts';
import { RetriableError } from '@canopy/errors';
import { classifyLdapError } from './ldap-errors.js';

export interface LdapConnectionOptions {
  /** ldaps://host[:port] or ldap://host[:port] */
  url: string;
  /** ldap:// only: upgrade with StartTLS (default). */
  startTls: boolean;
  /** ldap:// without StartTLS: credentials in clear. Labs only; logged as a warning. */
  allowInsecure: boolean;
  tlsServerName?: string | undefined;
  /** Connect, TLS handshake and bind timeout (ms). */
  timeout: number;
  /** Timeout of one search (ms); the server's own time limit applies too (none is asked for). */
  searchTimeout?: number;
  pageSize: number;
  bindDn: string;
  bindPassword: Secret;
  /** PEM text of the CA that signed the DC's certificate; system CAs when absent (with caFile). */
  ca?: string | undefined;
  /** PEM file of that CA. */
  caFile?: string | undefined;
}

export type LdapEntry = Entry;

export function transportMode(o: Pick<LdapConnectionOptions, 'url' | 'startTls' | 'allowInsecure'>): 'ldaps' | 'starttls' | 'plain' {
  if (o.url.startsWith('ldaps://')) return 'ldaps';
  if (o.startTls) return 'starttls';
  if (!o.allowInsecure) throw new Error('plain ldap:// without StartTLS needs allowInsecure: true');
  return 'plain';
}

/** TLS settings: the certificate is always verified (CA file or system store). */
export function tlsConnectOptions(o: Pick<LdapConnectionOptions, 'url' | 'ca' | 'caFile' | 'tlsServerName'>): ConnectionOptions {
  const host = new URL(o.url).hostname.replace(/^\[|\]$/g, '');
  const isIp = /^[\d.]+$|:/.test(host);
  return {
    ...(o.ca ? { ca: [o.ca] } : o.caFile ? { ca: [readFileSync(o.caFile, 'utf8')] } : {}),
    rejectUnauthorized: true,
    host,
    ...(o.tlsServerName ? { servername: o.tlsServerName } : isIp ? {} : { servername: host }),
  };
}

/**
 * One authenticated LDAP connection to a DC (ldapts). Connects lazily, re-connects after a
 * transport failure on the next call (counting reconnects), classifies every error
 * (RetriableError / PermanentError). The password is revealed only to bind.
 */
export class LdapConnection {
  #client: Client | undefined;
  #connecting: Promise<Client> | undefined;
  #everConnected = false;
  #warned = false;
  #closed = false;

  constructor(
    readonly options: LdapConnectionOptions,
    private readonly log: Logger,
    private readonly hooks: { onReconnect?: () => void } = {},
  ) {}

  get connected(): boolean {
    return !!this.#client?.isBound;
  }

  async client(): Promise<Client> {
    if (this.#closed) throw new RetriableError(`LDAP connection to ${this.options.url} closed`, { type: 'Ldap.Closed' });
    if (this.#client?.isConnected && this.#client.isBound) return this.#client;
    return (this.#connecting ??= this.#connect().finally(() => (this.#connecting = undefined)));
  }

  async #connect(): Promise<Client> {
    this.#drop();
    const o = this.options;
    const mode = transportMode(o);
    if (mode === 'plain' && !this.#warned) {
      this.#warned = true;
      this.log.warn({ url: o.url }, 'LDAP without TLS (allowInsecure): the bind password crosses the network in clear; labs only');
    }
    const client = new Client({
      url: o.url,
      // ldapts has one timeout for every operation: the long one, searches need it; a DC that
      // does not answer a bind is still found by connectTimeout and the next search.
      timeout: Math.max(o.timeout, o.searchTimeout ?? 0),
      connectTimeout: o.timeout,
      strictDN: false,
      ...(mode === 'ldaps' ? { tlsOptions: tlsConnectOptions(o) } : {}),
    });
    try {
      if (mode === 'starttls') await client.startTLS(tlsConnectOptions(o));
      await client.bind(o.bindDn, o.bindPassword.reveal());
    } catch (err) {
      await client.unbind().catch(() => undefined);
      throw classifyLdapError(err, `LDAP connect/bind to ${o.url} as ${o.bindDn} failed`);
    }
    if (this.#everConnected) {
      this.hooks.onReconnect?.();
      this.log.info({ url: o.url, mode }, 'LDAP reconnected');
    } else {
      this.log.info({ url: o.url, mode, bindDn: o.bindDn }, 'LDAP connected');
    }
    this.#everConnected = true;
    if (this.#closed) {
      // Closed while connecting (shutdown): do not keep the connection.
      await client.unbind().catch(() => undefined);
      throw new RetriableError(`LDAP connection to ${o.url} closed`, { type: 'Ldap.Closed' });
    }
    this.#client = client;
    return client;
  }

  #drop(): void {
    const c = this.#client;
    this.#client = undefined;
    if (c) void c.unbind().catch(() => undefined);
  }

  async search(base: string, options: SearchOptions, controls: Control[] = []): Promise<LdapEntry[]> {
    const client = await this.client();
    try {
      // ldapts asks the server for a 10 s limit unless told otherwise; a large DirSync answer needs more.
      const res = await client.search(base, { timeLimit: 0, ...options }, controls);
      return res.searchEntries;
    } catch (err) {
      const e = classifyLdapError(err, `search under ${base}`);
      if (e.retriable) this.#drop();
      throw e;
    }
  }

  /** Paged search (simple paged results): yields one page of entries at a time. */
  async *searchPaged(base: string, options: SearchOptions, controls: Control[] = []): AsyncGenerator<LdapEntry[]> {
    const client = await this.client();
    try {
      for await (const page of client.searchPaginated(base, { timeLimit: 0, ...options, paged: { pageSize: this.options.pageSize } }, controls)) {
        yield page.searchEntries;
      }
    } catch (err) {
      const e = classifyLdapError(err, `paged search under ${base}`);
      if (e.retriable) this.#drop();
      throw e;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const c = this.#client;
    this.#client = undefined;
    await c?.unbind().catch(() => undefined);
  }
}
