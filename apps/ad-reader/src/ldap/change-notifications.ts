import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '@canopy/logger';
import {
  BindRequest,
  BindResponse,
  ExtendedRequest,
  ExtendedResponse,
  FilterParser,
  MessageParser,
  SearchEntry,
  SearchRequest,
  SearchResponse,
  type Control,
} from 'ldapts';
import { tlsConnectOptions, transportMode, type LdapConnectionOptions } from './ldap-connection.js';
import { classifyLdapError } from './ldap-errors.js';
import { NotificationControl, ShowDeletedControl } from './simple-controls.js';

/**
 * AD change notifications (LDAP_SERVER_NOTIFICATION_OID 1.2.840.113556.1.4.528) on a dedicated
 * connection. A notification search never completes, and ldapts' Client only resolves a search
 * at SearchResultDone, so this is a minimal LDAP session of its own built from ldapts' exported
 * message classes and BER parser (no private ldapts API): connect (LDAPS or StartTLS), simple
 * bind, one notification search per naming context, then every SearchResultEntry is a change.
 * The DC drops the connection when it restarts: the listener reconnects with backoff and
 * re-issues the searches. A change that happens while it is down is still found by the next
 * DirSync pull (the caller pulls on every reconnect, and polls as a fallback).
 */
export interface ChangeNotificationOptions
  extends Pick<LdapConnectionOptions, 'url' | 'startTls' | 'allowInsecure' | 'tlsServerName' | 'ca' | 'caFile' | 'bindDn' | 'bindPassword' | 'timeout'> {
  /** Naming contexts to watch (subtree). */
  bases: string[];
}

export interface ChangeNotification {
  base: string;
  dn: string;
  objectGuid: Buffer | null;
}

interface Pending {
  message: { controls?: Control[] };
  resolve?: (m: unknown) => void;
}

const STARTTLS_OID = '1.3.6.1.4.1.1466.20037';

export class ChangeNotificationListener {
  #running = false;
  #socket: net.Socket | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  /** Ends the current session at once (stop() while connecting, binding or listening). */
  #abort: ((err: Error) => void) | undefined;

  constructor(
    private readonly options: ChangeNotificationOptions,
    private readonly log: Logger,
    private readonly onChange: (n: ChangeNotification) => void,
    private readonly hooks: { onConnected?: () => void; onDisconnected?: (err: Error) => void } = {},
  ) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#abort?.(new Error('change notifications stopped'));
    this.#socket?.destroy();
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let delay = 500;
    while (this.#running) {
      const started = Date.now();
      try {
        await this.#session();
      } catch (err) {
        if (!this.#running) break;
        const e = classifyLdapError(err, 'change-notification session');
        this.hooks.onDisconnected?.(e);
        this.log.warn({ err: e.message, type: e.type, retryInMs: delay }, 'change notifications interrupted; reconnecting');
      }
      if (!this.#running) break;
      if (Date.now() - started > 30_000) delay = 500;
      await new Promise<void>((r) => {
        const t = setTimeout(r, delay);
        this.#wake = () => {
          clearTimeout(t);
          r();
        };
      });
      delay = Math.min(delay * 2, 30_000);
    }
  }

  /** One connection's life: resolves never; rejects when the connection ends. */
  async #session(): Promise<void> {
    const o = this.options;
    const mode = transportMode(o);
    const url = new URL(o.url);
    const port = Number(url.port || (mode === 'ldaps' ? 636 : 389));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let messageId = 0;
    const pending = new Map<string, Pending>();
    const searches = new Map<number, string>();

    let fail: (err: Error) => void = () => undefined;
    const ended = new Promise<never>((_, reject) => (fail = reject));
    ended.catch(() => undefined);
    this.#abort = fail;
    // Known to stop() before it is connected: a stop during the handshake ends the session.
    const raw = mode === 'ldaps' ? tls.connect({ port, ...tlsConnectOptions(o) }) : net.connect(port, host);
    this.#socket = raw;
    let socket: net.Socket = await Promise.race([connected(raw, mode === 'ldaps' ? 'secureConnect' : 'connect', o.timeout), ended]);

    let parser = new MessageParser();
    const attach = (s: net.Socket, p: MessageParser) => {
      const onData = (d: Buffer) => p.read(d, pending as never);
      s.on('data', onData);
      s.once('close', () => fail(new Error('notification connection closed')));
      s.on('error', (err) => fail(err));
      p.on('error', (err) => fail(err));
      p.on('message', (m: unknown) => this.#onMessage(m, pending, searches, fail));
      return onData;
    };
    let onData = attach(socket, parser);
    const send = <T>(msg: { messageId: number; write(): Buffer; controls?: Control[] }): Promise<T> =>
      Promise.race([
        new Promise<T>((resolve) => {
          pending.set(String(msg.messageId), { message: msg, resolve: resolve as (m: unknown) => void });
          socket.write(msg.write());
        }),
        ended,
        timeout(o.timeout, 'notification connection: no answer'),
      ]);

    try {
      if (mode === 'starttls') {
        const res = await send<ExtendedResponse>(new ExtendedRequest({ messageId: ++messageId, oid: STARTTLS_OID }));
        if (res.status !== 0) throw Object.assign(new Error(`StartTLS refused (${res.status})`), { code: res.status });
        socket.removeListener('data', onData);
        socket.removeAllListeners('close');
        socket.removeAllListeners('error');
        const secure = tls.connect({ socket, ...tlsConnectOptions(o) });
        this.#socket = secure;
        socket = await Promise.race([connected(secure, 'secureConnect', o.timeout), ended]);
        parser = new MessageParser();
        onData = attach(socket, parser);
      }
      socket.setKeepAlive(true, 30_000);
      const bind = await send<BindResponse>(new BindRequest({ messageId: ++messageId, dn: o.bindDn, password: o.bindPassword.reveal() }));
      if (bind.status !== 0) throw Object.assign(new Error(`bind failed (${bind.status}) ${bind.errorMessage}`), { code: bind.status });
      for (const base of o.bases) {
        const id = ++messageId;
        searches.set(id, base);
        const req = new SearchRequest({
          messageId: id,
          baseDN: base,
          scope: 'sub',
          filter: FilterParser.parseString('(objectClass=*)'),
          attributes: ['objectGUID'],
          explicitBufferAttributes: ['objectGUID'],
          // Show-deleted: a delete is announced too (its tombstone), not only found by the next poll.
          controls: [new NotificationControl(), new ShowDeletedControl()],
        });
        pending.set(String(id), { message: req });
        socket.write(req.write());
      }
      this.log.info({ bases: o.bases }, 'change notifications registered');
      this.hooks.onConnected?.();
      await ended;
    } finally {
      socket.destroy();
      this.#socket = undefined;
      this.#abort = undefined;
    }
  }

  #onMessage(m: unknown, pending: Map<string, Pending>, searches: Map<number, string>, fail: (err: Error) => void): void {
    const msg = m as { messageId: number; status?: number; errorMessage?: string };
    const base = searches.get(msg.messageId);
    if (base !== undefined) {
      if (m instanceof SearchEntry) {
        const guidAttr = m.attributes.find((a) => a.type.toLowerCase() === 'objectguid');
        const guid = guidAttr?.parsedBuffers[0];
        this.onChange({ base, dn: m.name, objectGuid: guid && guid.length === 16 ? Buffer.from(guid) : null });
      } else if (m instanceof SearchResponse) {
        // A notification search only ends on error (e.g. the server's limit, or shutting down).
        fail(Object.assign(new Error(`notification search on ${base} ended (${msg.status}) ${msg.errorMessage ?? ''}`), { code: msg.status }));
      }
      return;
    }
    const p = pending.get(String(msg.messageId));
    if (p?.resolve && (m instanceof BindResponse || m instanceof ExtendedResponse)) {
      pending.delete(String(msg.messageId));
      p.resolve(m);
    }
  }
}

function connected<S extends net.Socket>(socket: S, event: 'connect' | 'secureConnect', ms: number): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    const t = setTimeout(() => {
      socket.destroy();
      reject(new Error('connection timeout'));
    }, ms);
    socket.once(event, () => {
      clearTimeout(t);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(t);
      socket.destroy();
      reject(err);
    });
    socket.once('close', () => {
      clearTimeout(t);
      reject(new Error('connection closed before it was established'));
    });
  });
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise<never>((_, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    t.unref();
  });
}
