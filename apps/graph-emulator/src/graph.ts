import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from './clock.js';
import type { Counters } from './counters.js';
import { Directory, type DirObject, type Kind, type RegisteredExtension } from './directory.js';
import { mulberry32, type FaultInjector } from './faults.js';
import { candidates, evaluate, forEachUse, parseFilter, type ParsedFilter } from './filter.js';
import { GraphError, badRequest, errorBody, insufficientPrivileges, notFound, unsupportedFilter } from './graph-error.js';
import type { AccessTokenClaims, AppRegistration, IdentityPlatform } from './identity.js';
import { DEFAULT_SELECT, REQUIRED_ON_CREATE, checkBody, checkMailNickname, checkPasswordComplexity, checkUserPrincipalName, checkValueRules } from './rules.js';
import { canonicalProperty, isGuid, propertiesOf } from './schema.js';
import type { Throttler } from './throttle.js';

/** One Graph request, from the HTTPS server or from inside a $batch. */
export interface GraphRequest {
  method: string;
  /** Path and query below the host, starting with /v1.0 (or relative to it inside a batch). */
  url: string;
  headers: Record<string, string | undefined>;
  body?: unknown;
  /** The body was not valid JSON. */
  badJson?: boolean;
}

export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  /** body is a string to send as is (text/plain), not JSON */
  raw?: boolean;
}

export interface GraphServiceOptions {
  clock: Clock;
  tenantId: string;
  directory: Directory;
  identity: IdentityPlatform;
  throttler: Throttler;
  faults: FaultInjector;
  counters: Counters;
  /** https://127.0.0.1:PORT */
  baseUrl: () => string;
  verifiedDomains: () => string[];
  initialDomain: () => string;
  apps: () => AppRegistration[];
  maxBatchRequests?: number;
  /**
   * Order in which $batch items without dependsOn run and are answered. Graph documents no order
   * ("responses might be in a different order"), so the default shuffles (seeded): a client that
   * relies on order fails here as it would in production.
   */
  batchOrder?: () => 'shuffled' | 'sequential';
}

const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const MAX_BIND = 20;
const DEFAULT_PAGE = 100;
const DELTA_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;

const READ_USER = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const WRITE_USER = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];
const READ_GROUP = ['Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'GroupMember.Read.All', 'GroupMember.ReadWrite.All'];
const CREATE_GROUP = ['Group.Create', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const WRITE_GROUP = ['Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const WRITE_MEMBERS = ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const READ_APP = ['Application.Read.All', 'Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const WRITE_APP = ['Application.ReadWrite.All', 'Application.ReadWrite.OwnedBy'];
const READ_DIR = ['Directory.Read.All', 'Directory.ReadWrite.All', 'Domain.Read.All', 'Domain.ReadWrite.All', 'Organization.Read.All', 'User.Read.All', 'User.ReadWrite.All'];

const FILTERABLE: Record<Kind, Set<string>> = {
  user: new Set(['id', 'accountEnabled', 'displayName', 'givenName', 'surname', 'mail', 'mailNickname', 'userPrincipalName', 'onPremisesImmutableId', 'onPremisesSyncEnabled', 'onPremisesSamAccountName', 'onPremisesSecurityIdentifier', 'employeeId', 'employeeType', 'userType', 'jobTitle', 'department', 'companyName', 'city', 'country', 'state', 'usageLocation', 'creationType', 'proxyAddresses', 'otherMails', 'imAddresses', 'createdDateTime', 'officeLocation', 'preferredLanguage', 'mobilePhone', 'businessPhones', 'deletedDateTime']),
  group: new Set(['id', 'displayName', 'mail', 'mailNickname', 'mailEnabled', 'securityEnabled', 'groupTypes', 'proxyAddresses', 'onPremisesSyncEnabled', 'onPremisesSecurityIdentifier', 'onPremisesSamAccountName', 'createdDateTime', 'description', 'securityIdentifier', 'classification', 'visibility', 'isAssignableToRole', 'deletedDateTime', 'expirationDateTime']),
};
const COLLECTIONS = new Set(['proxyAddresses', 'otherMails', 'imAddresses', 'groupTypes', 'businessPhones']);

const resourceName = (k: Kind): string => (k === 'user' ? 'User' : 'Group');
const coll = (k: Kind): string => (k === 'user' ? 'users' : 'groups');

interface Ctx {
  claims: AccessTokenClaims;
  appId: string;
  headers: Record<string, string | undefined>;
  query: URLSearchParams;
  path: string;
  segs: string[];
  method: string;
  body: unknown;
}

export class GraphService {
  private rnd = mulberry32(20_26);

  constructor(private o: GraphServiceOptions) {}

  get dir(): Directory {
    return this.o.directory;
  }

  /** Base URL of the request being answered (from its Host header), so links work under any name. */
  private base = '';

  private v1(): string {
    return `${this.base || this.o.baseUrl()}/v1.0`;
  }

  /** Answer one request (batch items included). `inBatch` skips the $batch route itself. */
  async handle(req: GraphRequest, inBatch = false): Promise<GraphResponse> {
    // Routing below is synchronous, so this stays the request's own until it answers.
    this.base = req.headers.host ? `https://${req.headers.host}` : this.o.baseUrl();
    const requestId = randomUUID();
    const clientRequestId = req.headers['client-request-id'] ?? requestId;
    const headers: Record<string, string> = {
      'request-id': requestId,
      'client-request-id': clientRequestId,
      'x-ms-ags-diagnostic': JSON.stringify({ ServerInfo: { DataCenter: 'Canopy Emulator', Slice: 'E', Ring: '0', ScaleUnit: '000', RoleInstance: 'EMULATOR' } }),
      'x-canopy-emulator-quota': this.o.throttler.quotaHeader(),
      'OData-Version': '4.0',
      'Cache-Control': 'no-cache',
      'Strict-Transport-Security': 'max-age=31536000',
    };
    let appId = '(anonymous)';
    let cost = 0;
    let isWrite = false;
    try {
      const url = new URL(req.url.startsWith('/') ? req.url : `/v1.0/${req.url}`, 'https://graph.local');
      let path = url.pathname;
      if (inBatch && !path.startsWith('/v1.0/')) path = `/v1.0${path}`;
      if (!path.startsWith('/v1.0/') && path !== '/v1.0') {
        throw new GraphError(400, 'BadRequest', `Invalid version: ${path.split('/')[1] ?? ''}`);
      }
      path = path.slice('/v1.0'.length).replace(/\/+$/, '') || '/';
      try {
        path = path.split('/').map((seg) => decodeURIComponent(seg)).join('/');
      } catch {
        throw new GraphError(400, 'BadRequest', `The request URI is not valid: ${url.pathname}`);
      }
      const method = req.method.toUpperCase();
      isWrite = method !== 'GET' && method !== 'HEAD';
      this.dir.purgeExpired();

      const claims = this.o.identity.validate(req.headers.authorization);
      appId = claims.appid;

      if (path === '/$batch' && !inBatch && method === 'POST') {
        const res = await this.batch(req, claims, headers);
        this.o.counters.record(appId, 'batch', res.status);
        return res;
      }

      const query = url.searchParams;
      const decision = this.o.throttler.check(appId, { method, path, query });
      cost = decision.cost;
      headers['x-ms-resource-unit'] = String(cost);
      if (decision.limitPercentage !== undefined) headers['x-ms-throttle-limit-percentage'] = String(decision.limitPercentage);
      if (decision.throttled) {
        this.o.counters.throttled(appId, decision.scope!, decision.information!);
        throw new GraphError(429, 'TooManyRequests', 'Too many requests.', {
          headers: { 'Retry-After': String(decision.retryAfterSeconds), 'x-ms-throttle-scope': decision.scope!, 'x-ms-throttle-information': decision.information! },
        });
      }
      // Injected trouble comes after the quota was charged, as a backend failure would.
      const fault = this.o.faults.graphFault(path);
      if (fault === 'throttle') {
        const retryAfter = this.o.faults.settings.throttleRetryAfterSeconds;
        throw new GraphError(429, 'TooManyRequests', 'Too many requests. (injected 429 storm)', {
          headers: { 'Retry-After': String(retryAfter), 'x-ms-throttle-scope': `Tenant_Application/ReadWrite/${appId}/${this.o.tenantId}`, 'x-ms-throttle-information': 'InjectedThrottle' },
        });
      }
      if (typeof fault === 'number') {
        const codes: Record<number, [string, string]> = {
          400: ['Request_BadRequest', 'Invalid request. (injected)'],
          403: ['Authorization_RequestDenied', 'Insufficient privileges to complete the operation. (injected)'],
          500: ['UnknownError', 'An internal server error occurred. (injected)'],
          502: ['BadGateway', 'Bad gateway. (injected)'],
          503: ['serviceNotAvailable', 'The service is temporarily unavailable. Please retry. (injected)'],
          504: ['GatewayTimeout', 'The operation timed out. (injected)'],
        };
        const [code, msg] = codes[fault] ?? ['UnknownError', 'Injected failure.'];
        throw new GraphError(fault, code, msg, fault === 503 ? { headers: { 'Retry-After': '1' } } : {});
      }

      if (req.badJson) throw badRequest('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.', 'BadRequest');
      const segs = path.split('/').filter(Boolean);
      const ctx: Ctx = { claims, appId, headers: req.headers, query, path, segs, method, body: req.body };
      this.checkQueryOptions(ctx);
      const res = this.route(ctx);
      Object.assign(res.headers, headers);
      if (res.body !== undefined && !res.raw) res.headers['Content-Type'] = JSON_TYPE;
      this.o.counters.record(appId, isWrite ? 'write' : 'read', res.status, cost);
      return res;
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      Object.assign(headers, err.extra.headers ?? {});
      headers['Content-Type'] = 'application/json';
      this.o.counters.record(appId, isWrite ? 'write' : 'read', err.status, cost);
      return { status: err.status, headers, body: errorBody(err, requestId, clientRequestId, this.o.clock.now()) };
    }
  }

  // ---- routing ------------------------------------------------------------------------------

  private route(c: Ctx): GraphResponse {
    const [a, b, d, e] = c.segs;
    const m = c.method;
    const n = c.segs.length;
    const unsupported = (): never => {
      throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${c.segs[n - 1] ?? ''}'.`);
    };
    const method = (): never => {
      throw new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request uri.');
    };
    if (a?.startsWith('applications(')) return this.applications(c);
    switch (a) {
      case 'users':
      case 'groups': {
        const kind: Kind = a === 'users' ? 'user' : 'group';
        if (n === 1) {
          if (m === 'GET') return this.list(c, kind);
          if (m === 'POST') return kind === 'user' ? this.createUser(c) : this.createGroup(c);
          return method();
        }
        if (b === '$count' && n === 2 && m === 'GET') return this.countSegment(c, () => this.query(c, kind, 'live', true).count!);
        if (b === 'delta' || b === 'delta()') {
          if (n !== 2) return unsupported();
          if (m !== 'GET') return method();
          return this.delta(c, kind);
        }
        if (n === 2) {
          if (m === 'GET') return this.getOne(c, kind, b!);
          if (m === 'PATCH') return this.patch(c, kind, b!);
          if (m === 'DELETE') return this.remove(c, kind, b!);
          return method();
        }
        if (kind === 'user' && d === 'memberOf' && n === 3) {
          if (m !== 'GET') return method();
          return this.memberOf(c, b!);
        }
        if (kind === 'group' && d === 'members') {
          if (n === 3 && m === 'GET') return this.members(c, b!);
          if (n === 4 && e === '$count' && m === 'GET') {
            this.need(c, READ_GROUP);
            const g = this.find('group', b!);
            return this.countSegment(c, () => [...this.dir.liveMembers(g)].length);
          }
          if (n === 3 && m === 'PATCH') return this.patchMembers(c, b!);
          if (n === 4 && e === '$ref' && m === 'POST') return this.addMemberRef(c, b!);
          if (n === 5 && c.segs[4] === '$ref' && m === 'DELETE') return this.removeMemberRef(c, b!, e!);
          if (n === 4 && e === '$ref' && m === 'GET') return this.members(c, b!, true);
          return method();
        }
        return unsupported();
      }
      case 'directory':
        if (b !== 'deletedItems') return unsupported();
        return this.deletedItems(c);
      case 'directoryObjects':
        if (n === 2 && m === 'GET') {
          this.need(c, [...READ_USER, ...READ_GROUP]);
          const o = this.dir.visibleAny(b!);
          if (!o) throw notFound(b!);
          return this.ok({ '@odata.context': `${this.v1()}/$metadata#directoryObjects/$entity`, '@odata.type': `#microsoft.graph.${o.kind}`, ...this.render(o, this.selectOf(c, o.kind)) });
        }
        return unsupported();
      case 'applications':
        return this.applications(c);
      case 'domains':
        if (m !== 'GET') return method();
        this.need(c, READ_DIR);
        return this.ok({
          '@odata.context': `${this.v1()}/$metadata#domains`,
          value: this.o.verifiedDomains().map((id) => ({ id, isVerified: true, isInitial: id === this.o.initialDomain(), isDefault: id === this.o.initialDomain(), authenticationType: 'Managed', supportedServices: ['Email', 'OfficeCommunicationsOnline'] })),
        });
      case 'organization':
        if (m !== 'GET') return method();
        this.need(c, READ_DIR);
        return this.ok({
          '@odata.context': `${this.v1()}/$metadata#organization`,
          value: [{ id: this.o.tenantId, displayName: 'Canopy emulator tenant', verifiedDomains: this.o.verifiedDomains().map((name) => ({ name, type: 'Managed', isDefault: name === this.o.initialDomain(), isInitial: name === this.o.initialDomain(), capabilities: 'Email, OfficeCommunicationsOnline' })), onPremisesSyncEnabled: null }],
        });
      case '$batch':
        throw badRequest('Nested $batch requests are not supported.', 'BadRequest');
      default:
        return unsupported();
    }
  }

  /** GET .../$count: text/plain, only as an advanced query. */
  private countSegment(c: Ctx, count: () => number): GraphResponse {
    if (!this.eventual(c)) throw badRequest('$count is not currently supported.');
    const kindRoles = c.segs[0] === 'users' ? READ_USER : READ_GROUP;
    this.need(c, kindRoles);
    return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: String(count()), raw: true } as GraphResponse;
  }

  private need(c: Ctx, anyOf: string[]): void {
    if (!c.claims.roles?.some((r) => anyOf.includes(r))) throw insufficientPrivileges();
  }

  private ok(body: unknown, status = 200, headers: Record<string, string> = {}): GraphResponse {
    return { status, headers, body };
  }

  private noContent(): GraphResponse {
    return { status: 204, headers: {} };
  }

  // ---- query options ------------------------------------------------------------------------

  private checkQueryOptions(c: Ctx): void {
    const known = new Set(['$select', '$filter', '$top', '$count', '$skiptoken', '$deltatoken', '$orderby', '$expand', '$search', '$skip', '$format']);
    for (const k of c.query.keys()) {
      if (k.startsWith('$') && !known.has(k)) throw badRequest(`Query option '${k}' is not allowed. Make sure that the query option is supported.`, 'BadRequest');
    }
    const count = c.query.get('$count');
    if (count !== null && count !== 'true' && count !== 'false') throw badRequest(`'${count}' is not a valid count option.`, 'BadRequest');
    // Graph (aad-advanced-queries, "Error handling"): without ConsistencyLevel: eventual the
    // $count query parameter is silently ignored, and the /$count segment is an error.
    if (count === 'true' && !this.eventual(c)) c.query.delete('$count');
    if (c.query.has('$search')) throw new GraphError(400, 'Emulator_NotSupported', 'The emulator does not implement $search.');
    if (c.query.has('$expand')) throw new GraphError(400, 'Emulator_NotSupported', 'The emulator does not implement $expand.');
    if (c.query.has('$orderby')) throw new GraphError(400, 'Emulator_NotSupported', 'The emulator does not implement $orderby.');
    if (c.query.has('$skip')) throw badRequest("'$skip' is not supported by the service.", 'Request_BadRequest');
    const top = c.query.get('$top');
    if (top !== null) {
      const t = Number(top);
      if (!Number.isInteger(t) || t < 1 || t > 999) throw badRequest(`Invalid page size specified: '${top}'. Must be between 1 and 999 inclusive.`);
    }
  }

  private eventual(c: Ctx): boolean {
    return (c.headers.consistencylevel ?? '').toLowerCase() === 'eventual';
  }

  private pageSize(c: Ctx): number {
    const top = c.query.get('$top');
    if (top !== null) return Number(top);
    const prefer = /odata\.maxpagesize=(\d+)/.exec(c.headers.prefer ?? '');
    return prefer ? Math.min(999, Math.max(1, Number(prefer[1]))) : DEFAULT_PAGE;
  }

  /** Parse $select; `members` is accepted only on groups/delta (members@delta). */
  private selectOf(c: Ctx, kind: Kind, inDelta = false): string[] | undefined {
    const raw = c.query.get('$select');
    if (raw === null) return undefined;
    const out: string[] = [];
    for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (part.startsWith('extension_')) {
        const ext = this.dir.extensions.get(part);
        if (!ext || !ext.targetObjects.includes(resourceName(kind)) || ext.availableAt > this.o.clock.now()) {
          throw new GraphError(400, 'Request_BadRequest', `Could not find a property named '${part}' on type 'microsoft.graph.${kind}'.`);
        }
        out.push(part);
        continue;
      }
      if (part === 'members' && kind === 'group' && inDelta) {
        out.push(part);
        continue;
      }
      const name = canonicalProperty(kind, part);
      if (!name) throw new GraphError(400, 'Request_BadRequest', `Could not find a property named '${part}' on type 'microsoft.graph.${kind}'.`);
      out.push(name);
    }
    return out;
  }

  /** Render an object with Graph's default property set or the $select list. */
  render(o: DirObject, select?: string[], fresh = false): Record<string, unknown> {
    const names = select ?? DEFAULT_SELECT[o.kind];
    const current = fresh ? o.props : this.dir.readProps(o);
    const props = propertiesOf(o.kind);
    const out: Record<string, unknown> = {};
    for (const name of names) {
      if (name === 'members') continue;
      if (name === 'id') {
        out.id = o.id;
        continue;
      }
      if (name === 'passwordProfile') {
        out.passwordProfile = null;
        continue;
      }
      const v = current[name];
      if (v !== undefined) out[name] = v;
      else {
        const def = props.get(name);
        out[name] = def && def.type.startsWith('Collection(') ? [] : null;
      }
    }
    return out;
  }

  private parseFilterFor(c: Ctx, kind: Kind, raw: string): ParsedFilter {
    const f = parseFilter(raw);
    forEachUse(f.ast, (prop, usage) => {
      if (prop.startsWith('extension_')) {
        const ext = this.dir.extensions.get(prop);
        if (!ext || !ext.targetObjects.includes(resourceName(kind)) || ext.availableAt > this.o.clock.now()) {
          throw new GraphError(400, 'Request_BadRequest', `Could not find a property named '${prop}' on type 'microsoft.graph.${kind}'.`);
        }
        if ((usage === 'collection') !== ext.isMultiValued) throw unsupportedFilter(prop, resourceName(kind));
        return;
      }
      if (!propertiesOf(kind).has(prop) && prop !== 'id') {
        throw new GraphError(400, 'Request_BadRequest', `Could not find a property named '${prop}' on type 'microsoft.graph.${kind}'.`);
      }
      if (!FILTERABLE[kind].has(prop)) throw unsupportedFilter(prop, resourceName(kind));
      if ((usage === 'collection') !== COLLECTIONS.has(prop)) throw unsupportedFilter(prop, resourceName(kind));
    });
    if (f.advanced && !(this.eventual(c) && c.query.get('$count') === 'true')) {
      throw unsupportedFilter([...f.props][0] ?? '', resourceName(kind));
    }
    return f;
  }

  private skipOrd(c: Ctx): number {
    const t = c.query.get('$skiptoken');
    if (t === null) return 0;
    try {
      const v = JSON.parse(Buffer.from(t.replace(/^X/, ''), 'base64url').toString('utf8')) as { o?: number };
      if (typeof v.o === 'number') return v.o;
    } catch {
      /* fall through */
    }
    throw badRequest('Invalid $skiptoken.', 'Request_BadRequest');
  }

  private nextLink(c: Ctx, token: Record<string, unknown>): string {
    const q = new URLSearchParams(c.query);
    q.set('$skiptoken', 'X' + Buffer.from(JSON.stringify(token)).toString('base64url'));
    return `${this.v1()}${c.path}?${q.toString().replace(/%24/g, '$').replace(/%2C/gi, ',')}`;
  }

  /** Filter, order by creation, page. */
  private query(c: Ctx, kind: Kind, source: 'live' | 'deleted', countOnly = false): { items: DirObject[]; next?: number; count?: number } {
    const store = this.dir.store(kind);
    const rawFilter = c.query.get('$filter');
    const f = rawFilter !== null ? this.parseFilterFor(c, kind, rawFilter) : undefined;
    const top = this.pageSize(c);
    const after = this.skipOrd(c);
    const now = this.o.clock.now();
    const ok = (o: DirObject): boolean =>
      (source === 'live' ? o.state === 'live' && o.visibleAt <= now : o.state === 'deleted') &&
      (!f || evaluate(f.ast, (p) => (p === 'id' ? o.id : this.dir.readProps(o)[p])));
    const wantCount = countOnly || c.query.get('$count') === 'true';

    let cand: Set<string> | undefined;
    if (f && source === 'live') {
      cand = candidates(f.ast, (prop, value) => (prop === 'id' ? [value] : store.lookup(prop, value)));
    }
    if (cand) {
      const objs = [...cand].map((id) => store.byId.get(id)).filter((o): o is DirObject => !!o && ok(o));
      objs.sort((x, y) => x.ord - y.ord);
      const rest = objs.filter((o) => o.ord > after);
      return { items: rest.slice(0, top), next: rest.length > top ? rest[top - 1]!.ord : undefined, count: wantCount ? objs.length : undefined };
    }
    const items: DirObject[] = [];
    let next: number | undefined;
    const order = store.order;
    for (let i = store.positionAfter(after); i < order.length; i++) {
      const o = order[i]!;
      if ((o as { purged?: boolean }).purged || !ok(o)) continue;
      if (items.length === top) {
        next = items[top - 1]!.ord;
        break;
      }
      items.push(o);
    }
    let count: number | undefined;
    if (wantCount) {
      count = 0;
      for (const o of order) if (!(o as { purged?: boolean }).purged && ok(o)) count++;
    }
    return { items, next, count };
  }

  private list(c: Ctx, kind: Kind): GraphResponse {
    this.need(c, kind === 'user' ? READ_USER : READ_GROUP);
    const select = this.selectOf(c, kind);
    const { items, next, count } = this.query(c, kind, 'live');
    const body: Record<string, unknown> = { '@odata.context': `${this.v1()}/$metadata#${coll(kind)}${select ? `(${select.join(',')})` : ''}` };
    if (count !== undefined) body['@odata.count'] = count;
    if (next !== undefined) body['@odata.nextLink'] = this.nextLink(c, { o: next });
    body.value = items.map((o) => this.render(o, select));
    return this.ok(body);
  }

  private find(kind: Kind, key: string): DirObject {
    if (kind === 'user' && key.includes('@')) {
      const o = this.dir.userByUpn(key);
      if (!o) throw notFound(key);
      return o;
    }
    if (!isGuid(key)) {
      if (kind === 'group') throw badRequest(`Invalid object identifier '${key}'.`);
      throw notFound(key);
    }
    const o = this.dir.visible(kind, key);
    if (!o) throw notFound(key);
    return o;
  }

  private getOne(c: Ctx, kind: Kind, key: string): GraphResponse {
    this.need(c, kind === 'user' ? READ_USER : READ_GROUP);
    const select = this.selectOf(c, kind);
    const o = this.find(kind, key);
    return this.ok({ '@odata.context': `${this.v1()}/$metadata#${coll(kind)}${select ? `(${select.join(',')})` : ''}/$entity`, ...this.render(o, select) });
  }

  private bodyObject(c: Ctx): Record<string, unknown> {
    if (typeof c.body !== 'object' || c.body === null || Array.isArray(c.body)) {
      throw badRequest('Empty Payload. JSON content expected.', 'BadRequest');
    }
    return c.body as Record<string, unknown>;
  }

  private checkRequired(kind: Kind, props: Record<string, unknown>): void {
    for (const r of REQUIRED_ON_CREATE[kind]) {
      if (props[r] === undefined || props[r] === null || props[r] === '') {
        throw badRequest(`A value is required for property '${r}' of resource '${resourceName(kind)}'.`);
      }
    }
  }

  private created(kind: Kind, o: DirObject): GraphResponse {
    return this.ok({ '@odata.context': `${this.v1()}/$metadata#${coll(kind)}/$entity`, ...this.render(o, kind === 'group' ? undefined : [...DEFAULT_SELECT.user], true) }, 201, {
      Location: `https://graph.microsoft.com/v2/${this.o.tenantId}/directoryObjects/${o.id}/Microsoft.DirectoryServices.${resourceName(kind)}`,
    });
  }

  private createUser(c: Ctx): GraphResponse {
    this.need(c, WRITE_USER);
    const { props } = checkBody({ kind: 'user', body: this.bodyObject(c), extensions: this.dir.extensions, creating: true, now: this.o.clock.now() });
    this.checkRequired('user', props);
    checkValueRules('user', props);
    const pp = props.passwordProfile as Record<string, unknown>;
    checkPasswordComplexity(pp.password);
    checkUserPrincipalName(props.userPrincipalName, this.o.verifiedDomains());
    checkMailNickname(props.mailNickname, 'User');
    if (typeof props.displayName === 'string' && props.displayName.length > 256) throw badRequest("Invalid value specified for property 'displayName' of resource 'User'.");
    const stored: Record<string, unknown> = {
      businessPhones: [],
      userType: 'Member',
      ...props,
      passwordProfile: { forceChangePasswordNextSignIn: pp.forceChangePasswordNextSignIn ?? true, forceChangePasswordNextSignInWithMfa: pp.forceChangePasswordNextSignInWithMfa ?? false },
      proxyAddresses: [],
      imAddresses: [],
      otherMails: props.otherMails ?? [],
      securityIdentifier: sidOf(randomUUID()),
      lastPasswordChangeDateTime: new Date(this.o.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    if (typeof props.mail === 'string') stored.proxyAddresses = [`SMTP:${props.mail}`];
    this.dir.checkUnique('user', stored);
    const o = this.dir.create('user', stored);
    return this.created('user', o);
  }

  private resolveBinds(urls: string[], what: string): DirObject[] {
    if (urls.length > MAX_BIND) {
      throw badRequest(`The request contains ${urls.length} references in '${what}@odata.bind'; at most ${MAX_BIND} are allowed in a single request.`);
    }
    if (new Set(urls.map((u) => u.toLowerCase())).size !== urls.length) {
      throw badRequest(`One or more added object references already exist for the following modified properties: '${what}'.`);
    }
    return urls.map((u) => {
      const m = /\/(?:directoryObjects|users|groups)\/([^/?]+)\/?$/i.exec(u);
      if (!m) throw badRequest(`Invalid URL format specified in @odata.bind for ${what}`);
      let id: string;
      try {
        id = decodeURIComponent(m[1]!);
      } catch {
        throw badRequest(`Invalid URL format specified in @odata.bind for ${what}`);
      }
      const o = this.dir.visibleAny(id);
      if (!o) throw notFound(id);
      return o;
    });
  }

  private createGroup(c: Ctx): GraphResponse {
    this.need(c, CREATE_GROUP);
    const { props, binds } = checkBody({ kind: 'group', body: this.bodyObject(c), extensions: this.dir.extensions, creating: true, now: this.o.clock.now() });
    this.checkRequired('group', props);
    checkValueRules('group', props);
    const groupTypes = (props.groupTypes as string[] | undefined) ?? [];
    const unified = groupTypes.includes('Unified');
    if (props.mailEnabled === true && !unified) throw badRequest('Cannot Create a mail-enabled security groups and or distribution list.');
    if (unified && props.mailEnabled !== true) throw badRequest('A Microsoft 365 group (groupTypes Unified) must be created with mailEnabled true.');
    if (groupTypes.includes('DynamicMembership') && typeof props.membershipRule !== 'string') {
      throw badRequest("A value is required for property 'membershipRule' of resource 'Group'.");
    }
    checkMailNickname(props.mailNickname, 'Group');
    if (typeof props.displayName === 'string' && props.displayName.length > 256) throw badRequest("Invalid value specified for property 'displayName' of resource 'Group'.");
    const members = this.resolveBinds(binds.members ?? [], 'members');
    this.resolveBinds(binds.owners ?? [], 'owners');
    if (members.length && groupTypes.includes('DynamicMembership')) throw badRequest('Members cannot be added to a group with dynamic membership.');
    const now = new Date(this.o.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const stored: Record<string, unknown> = {
      ...props,
      groupTypes,
      proxyAddresses: [],
      securityIdentifier: sidOf(randomUUID()),
      renewedDateTime: now,
      resourceBehaviorOptions: [],
      resourceProvisioningOptions: [],
    };
    if (unified) {
      const mail = `${props.mailNickname as string}@${this.o.initialDomain()}`;
      stored.mail = mail;
      stored.proxyAddresses = [`SMTP:${mail}`];
      stored.visibility = props.visibility ?? 'Public';
    }
    if (groupTypes.includes('DynamicMembership')) stored.membershipRuleProcessingState = props.membershipRuleProcessingState ?? 'On';
    this.dir.checkUnique('group', stored);
    if (unified && members.some((m) => m.kind === 'group')) throw badRequest('Groups cannot be added as members of a Microsoft 365 group; only users can.');
    const o = this.dir.create('group', stored);
    for (const m of members) this.dir.addMember(o, m);
    return this.created('group', o);
  }

  private patch(c: Ctx, kind: Kind, key: string): GraphResponse {
    const bodyKeys = Object.keys(this.bodyObject(c));
    const onlyMembers = kind === 'group' && bodyKeys.length > 0 && bodyKeys.every((k) => k === 'members@odata.bind');
    this.need(c, kind === 'user' ? WRITE_USER : onlyMembers ? WRITE_MEMBERS : WRITE_GROUP);
    const o = this.find(kind, key);
    const { props, binds } = checkBody({ kind, body: this.bodyObject(c), extensions: this.dir.extensions, creating: false, now: this.o.clock.now() });
    const members = kind === 'group' ? this.resolveBinds(binds.members ?? [], 'members') : [];
    if (kind === 'group') this.resolveBinds(binds.owners ?? [], 'owners');
    for (const r of REQUIRED_ON_CREATE[kind]) {
      if (r in props && (props[r] === null || props[r] === '')) throw badRequest(`Invalid value specified for property '${r}' of resource '${resourceName(kind)}'.`);
    }
    checkValueRules(kind, props);
    const next: Record<string, unknown> = { ...props };
    if (kind === 'user') {
      if ('passwordProfile' in props) {
        const pp = (props.passwordProfile ?? {}) as Record<string, unknown>;
        if (pp.password !== undefined) checkPasswordComplexity(pp.password);
        next.passwordProfile = { forceChangePasswordNextSignIn: pp.forceChangePasswordNextSignIn ?? false, forceChangePasswordNextSignInWithMfa: pp.forceChangePasswordNextSignInWithMfa ?? false };
      }
      if ('userPrincipalName' in props) checkUserPrincipalName(props.userPrincipalName, this.o.verifiedDomains());
      if ('mailNickname' in props) checkMailNickname(props.mailNickname, 'User');
      if ('mail' in props) {
        const current = ((o.props.proxyAddresses as string[] | undefined) ?? []).map((a) => (a.startsWith('SMTP:') ? `smtp:${a.slice(5)}` : a));
        if (typeof props.mail === 'string') {
          const lower = `smtp:${props.mail.toLowerCase()}`;
          next.proxyAddresses = [`SMTP:${props.mail}`, ...current.filter((a) => a.toLowerCase() !== lower)];
        } else next.proxyAddresses = current;
      }
    } else {
      if ('mailEnabled' in props && props.mailEnabled !== o.props.mailEnabled) {
        const unified = ((o.props.groupTypes as string[]) ?? []).includes('Unified');
        if (!unified && props.mailEnabled === true) throw badRequest('Cannot Create a mail-enabled security groups and or distribution list.');
      }
      if ('mailNickname' in props) checkMailNickname(props.mailNickname, 'Group');
      if ('groupTypes' in props) {
        const before = ((o.props.groupTypes as string[]) ?? []).includes('Unified');
        const after = ((props.groupTypes as string[]) ?? []).includes('Unified');
        if (before !== after) throw badRequest('Updating the Unified group type is not supported.');
      }
    }
    const merged = { ...o.props, ...next };
    this.dir.checkUnique(kind, merged, o.id);
    for (const m of members) {
      this.checkMemberKind(o, m);
      if (o.members!.has(m.id)) throw badRequest("One or more added object references already exist for the following modified properties: 'members'.");
    }
    if (Object.keys(next).length) this.dir.update(o, next);
    for (const m of members) this.dir.addMember(o, m);
    return this.noContent();
  }

  private remove(c: Ctx, kind: Kind, key: string): GraphResponse {
    this.need(c, kind === 'user' ? WRITE_USER : WRITE_GROUP);
    const o = this.find(kind, key);
    this.dir.softDelete(o);
    return this.noContent();
  }

  // ---- membership ---------------------------------------------------------------------------

  private pageOf<T>(c: Ctx, all: T[]): { page: T[]; next?: number } {
    const top = this.pageSize(c);
    const start = this.skipOrd(c);
    const page = all.slice(start, start + top);
    return { page, next: start + top < all.length ? start + top : undefined };
  }

  private members(c: Ctx, groupId: string, refsOnly = false): GraphResponse {
    this.need(c, READ_GROUP);
    if (c.query.has('$filter')) throw new GraphError(400, 'Emulator_NotSupported', 'The emulator does not implement $filter on members.');
    const g = this.find('group', groupId);
    const all = [...this.dir.liveMembers(g)];
    const { page, next } = this.pageOf(c, all);
    const select = c.query.get('$select')?.split(',').map((s) => s.trim());
    const body: Record<string, unknown> = { '@odata.context': `${this.v1()}/$metadata#directoryObjects` };
    if (c.query.get('$count') === 'true') body['@odata.count'] = all.length;
    if (next !== undefined) body['@odata.nextLink'] = this.nextLink(c, { o: next });
    body.value = page.map((m) =>
      refsOnly
        ? { '@odata.id': `${this.v1()}/directoryObjects/${m.id}/Microsoft.DirectoryServices.${resourceName(m.kind)}` }
        : { '@odata.type': `#microsoft.graph.${m.kind}`, ...this.render(m, select ? select.filter((s) => propertiesOf(m.kind).has(s) || s === 'id' || s.startsWith('extension_')) : undefined) },
    );
    return this.ok(body);
  }

  private refTarget(c: Ctx): DirObject {
    const body = this.bodyObject(c);
    const ref = body['@odata.id'];
    const extra = Object.keys(body).filter((k) => k !== '@odata.id');
    if (extra.length) throw badRequest(`Property '${extra[0]}' does not exist on type 'microsoft.graph.directoryObject'.`);
    if (typeof ref !== 'string') throw badRequest("The '@odata.id' annotation is required and must be a URL of a directory object.", 'BadRequest');
    return this.resolveBinds([ref], 'members')[0]!;
  }

  private addMemberRef(c: Ctx, groupId: string): GraphResponse {
    this.need(c, WRITE_MEMBERS);
    const g = this.find('group', groupId);
    if (((g.props.groupTypes as string[]) ?? []).includes('DynamicMembership')) throw badRequest('Members cannot be added to a group with dynamic membership.');
    const m = this.refTarget(c);
    this.checkMemberKind(g, m);
    this.dir.addMember(g, m);
    return this.noContent();
  }

  /** Microsoft 365 groups hold only users; no group contains itself. */
  private checkMemberKind(g: DirObject, m: DirObject): void {
    if (m.id === g.id) throw badRequest('A group cannot be a member of itself.');
    if (m.kind === 'group' && ((g.props.groupTypes as string[]) ?? []).includes('Unified')) {
      throw badRequest('Groups cannot be added as members of a Microsoft 365 group; only users can.');
    }
  }

  private patchMembers(c: Ctx, groupId: string): GraphResponse {
    // PATCH /groups/{id}/members with members@odata.bind (beta-documented form): same rules.
    const body = this.bodyObject(c);
    c.body = { 'members@odata.bind': body['members@odata.bind'] };
    return this.patch(c, 'group', groupId);
  }

  private removeMemberRef(c: Ctx, groupId: string, memberId: string): GraphResponse {
    this.need(c, WRITE_MEMBERS);
    const g = this.find('group', groupId);
    this.dir.removeMember(g, memberId.toLowerCase());
    return this.noContent();
  }

  private memberOf(c: Ctx, key: string): GraphResponse {
    this.need(c, READ_USER);
    if (c.query.has('$filter')) throw new GraphError(400, 'Emulator_NotSupported', 'The emulator does not implement $filter on memberOf.');
    const u = this.find('user', key);
    const now = this.o.clock.now();
    const groups = [...(this.dir.memberOf.get(u.id) ?? [])]
      .map((id) => this.dir.groups.byId.get(id))
      .filter((g): g is DirObject => !!g && g.state === 'live' && g.visibleAt <= now);
    const select = this.selectOf(c, 'group');
    const { page, next } = this.pageOf(c, groups);
    const body: Record<string, unknown> = { '@odata.context': `${this.v1()}/$metadata#directoryObjects` };
    if (c.query.get('$count') === 'true') body['@odata.count'] = groups.length;
    if (next !== undefined) body['@odata.nextLink'] = this.nextLink(c, { o: next });
    body.value = page.map((g) => ({ '@odata.type': '#microsoft.graph.group', ...this.render(g, select) }));
    return this.ok(body);
  }

  // ---- deleted items ------------------------------------------------------------------------

  private deletedItems(c: Ctx): GraphResponse {
    const [, , third, fourth] = c.segs;
    const n = c.segs.length;
    const kindOfCast = (s: string | undefined): Kind | undefined =>
      s === 'microsoft.graph.user' ? 'user' : s === 'microsoft.graph.group' ? 'group' : undefined;
    if (n === 3 && c.method === 'GET' && kindOfCast(third)) {
      const kind = kindOfCast(third)!;
      this.need(c, kind === 'user' ? READ_USER : READ_GROUP);
      const select = this.selectOf(c, kind);
      const { items, next, count } = this.query(c, kind, 'deleted');
      const body: Record<string, unknown> = { '@odata.context': `${this.v1()}/$metadata#directoryObjects/${third}` };
      if (count !== undefined) body['@odata.count'] = count;
      if (next !== undefined) body['@odata.nextLink'] = this.nextLink(c, { o: next });
      body.value = items.map((o) => ({ '@odata.type': `#microsoft.graph.${kind}`, ...this.render(o, select ? select : [...DEFAULT_SELECT[kind], 'deletedDateTime']) }));
      return this.ok(body);
    }
    if (n === 2 || (n === 3 && !isGuid(third!))) {
      throw badRequest("The request URI is not valid. The segment 'deletedItems' must be followed by a type cast (microsoft.graph.user or microsoft.graph.group) or an object id.", 'BadRequest');
    }
    const id = third!;
    const o = this.dir.deleted(id);
    const kind = o?.kind;
    if (n === 3 && c.method === 'GET') {
      if (!o) throw notFound(id);
      this.need(c, kind === 'user' ? READ_USER : READ_GROUP);
      return this.ok({ '@odata.context': `${this.v1()}/$metadata#directoryObjects/$entity`, '@odata.type': `#microsoft.graph.${kind}`, ...this.render(o, [...DEFAULT_SELECT[kind!], 'deletedDateTime']) });
    }
    if (n === 3 && c.method === 'DELETE') {
      if (!o) throw notFound(id);
      this.need(c, kind === 'user' ? WRITE_USER : WRITE_GROUP);
      this.dir.purge(o);
      return this.noContent();
    }
    if (n === 4 && fourth === 'restore' && c.method === 'POST') {
      if (!o) throw notFound(id);
      this.need(c, kind === 'user' ? WRITE_USER : WRITE_GROUP);
      this.dir.restore(o);
      return this.ok({ '@odata.context': `${this.v1()}/$metadata#directoryObjects/$entity`, '@odata.type': `#microsoft.graph.${kind}`, ...this.render(o, undefined, true) });
    }
    throw new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request uri.');
  }

  // ---- delta --------------------------------------------------------------------------------

  private delta(c: Ctx, kind: Kind): GraphResponse {
    this.need(c, kind === 'user' ? READ_USER : READ_GROUP);
    if (c.query.has('$filter')) throw new GraphError(400, 'Emulator_NotSupported', 'The emulator does not implement $filter on delta.');
    const now = this.o.clock.now();
    const dt = c.query.get('$deltatoken');
    const st = c.query.get('$skiptoken');
    type Tok = { k: Kind; since: number; upto: number; after: number; sel: string | null; iat: number };
    const decode = (t: string): Tok => {
      try {
        const v = JSON.parse(Buffer.from(t, 'base64url').toString('utf8')) as Tok;
        if (v.k !== kind || typeof v.since !== 'number') throw new Error('kind');
        return v;
      } catch {
        throw badRequest('Invalid delta token.', 'Request_BadRequest');
      }
    };
    let tok: Tok;
    if (st) tok = decode(st);
    else if (dt) {
      const d = decode(dt);
      if (now - d.iat > DELTA_TOKEN_TTL_MS) {
        throw new GraphError(410, 'SyncStateNotFound', 'The delta token has expired (older than 7 days); start a new delta round without a token.');
      }
      tok = { k: kind, since: d.upto, upto: this.dir.seq, after: d.upto, sel: d.sel, iat: now };
    } else {
      tok = { k: kind, since: 0, upto: this.dir.seq, after: 0, sel: c.query.get('$select'), iat: now };
    }
    const selRaw = st || dt ? tok.sel : c.query.get('$select');
    const withMembers = kind === 'group' && !!selRaw && selRaw.split(',').map((s) => s.trim()).includes('members');
    if (selRaw !== null) c.query.set('$select', selRaw);
    const select = this.selectOf(c, kind, true);
    const store = this.dir.store(kind);
    const top = this.pageSize(c);
    const out: Record<string, unknown>[] = [];
    // first change-log position with seq > after
    let lo = 0;
    let hi = store.changeSeq.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (store.changeSeq[mid]! <= tok.after) lo = mid + 1;
      else hi = mid;
    }
    let last = tok.after;
    let more = false;
    let upto = tok.upto;
    for (let i = lo; i < store.changeSeq.length; i++) {
      const seq = store.changeSeq[i]!;
      if (seq > upto) break;
      const id = store.changeId[i]!;
      const o = store.byId.get(id);
      const current = o ? o.seq === seq : store.tombstones.get(id) === seq;
      if (!current) continue;
      if (o && o.state === 'live' && (o.visibleAt > now || (o.prev !== undefined && o.prev.until > now))) {
        upto = seq - 1; // not replicated yet: this round ends before it
        break;
      }
      if (out.length === top) {
        more = true;
        break;
      }
      last = seq;
      if (!o) {
        if (tok.since > 0) out.push({ id, '@removed': { reason: 'deleted' } });
      } else if (o.state === 'deleted') {
        if (tok.since > 0) out.push({ '@odata.type': `#microsoft.graph.${kind}`, id, '@removed': { reason: 'changed' } });
      } else {
        const item: Record<string, unknown> = { ...this.render(o, select), id: o.id };
        if (withMembers) item['members@delta'] = this.memberDelta(o, tok.since, tok.upto);
        out.push(item);
      }
    }
    const body: Record<string, unknown> = { '@odata.context': `${this.v1()}/$metadata#${coll(kind)}${select ? `(${select.join(',')})` : ''}` };
    const base = `${this.v1()}/${coll(kind)}/delta`;
    if (more) {
      body['@odata.nextLink'] = `${base}?$skiptoken=${Buffer.from(JSON.stringify({ ...tok, upto, after: last })).toString('base64url')}`;
    } else {
      body['@odata.deltaLink'] = `${base}?$deltatoken=${Buffer.from(JSON.stringify({ ...tok, upto, after: upto, iat: now })).toString('base64url')}`;
    }
    body.value = out;
    return this.ok(body);
  }

  private memberDelta(g: DirObject, since: number, upto: number): Array<Record<string, unknown>> {
    const typeOf = (id: string): string => (this.dir.users.byId.has(id) ? '#microsoft.graph.user' : '#microsoft.graph.group');
    if (since === 0) return [...this.dir.liveMembers(g)].map((m) => ({ '@odata.type': `#microsoft.graph.${m.kind}`, id: m.id }));
    const last = new Map<string, boolean>();
    for (const e of g.memberLog ?? []) if (e.seq > since && e.seq <= upto) last.set(e.id, e.removed);
    return [...last].map(([id, removed]) => (removed ? { '@odata.type': typeOf(id), id, '@removed': { reason: 'deleted' } } : { '@odata.type': typeOf(id), id }));
  }

  // ---- applications and extension properties -----------------------------------------------

  private appByKey(key: string): AppRegistration {
    const m = /^applications\(appId='([^']+)'\)$/i.exec(key);
    const apps = this.o.apps();
    const app = m ? apps.find((a) => a.clientId === m[1]!.toLowerCase()) : apps.find((a) => a.objectId === key.toLowerCase());
    if (!app) throw notFound(m ? m[1]! : key);
    return app;
  }

  private applications(c: Ctx): GraphResponse {
    const n = c.segs.length;
    const render = (a: AppRegistration) => ({ id: a.objectId, appId: a.clientId, displayName: a.displayName, deletedDateTime: null, signInAudience: 'AzureADMyOrg' });
    const canSee = (a: AppRegistration): boolean =>
      c.claims.roles.some((r) => r !== 'Application.ReadWrite.OwnedBy' && READ_APP.includes(r)) || (c.claims.roles.includes('Application.ReadWrite.OwnedBy') && a.clientId === c.appId);
    if (n === 1 && c.method === 'GET') {
      this.need(c, READ_APP);
      let apps = this.o.apps().filter(canSee);
      const f = c.query.get('$filter');
      if (f) {
        const m = /^\s*appId\s+eq\s+'([^']+)'\s*$/i.exec(f);
        if (!m) throw new GraphError(400, 'Emulator_NotSupported', "The emulator only implements $filter=appId eq '...' on applications.");
        apps = apps.filter((a) => a.clientId === m[1]!.toLowerCase());
      }
      return this.ok({ '@odata.context': `${this.v1()}/$metadata#applications`, value: apps.map(render) });
    }
    // applications(appId='...') arrives as a single segment
    const first = c.segs[0]!.startsWith('applications(') ? c.segs[0]! : c.segs[1]!;
    const rest = c.segs[0]!.startsWith('applications(') ? c.segs.slice(1) : c.segs.slice(2);
    this.need(c, READ_APP);
    const app = this.appByKey(first);
    if (!canSee(app)) throw notFound(app.objectId);
    if (rest.length === 0 && c.method === 'GET') return this.ok({ '@odata.context': `${this.v1()}/$metadata#applications/$entity`, ...render(app) });
    if (rest[0] === 'extensionProperties') {
      const exts = [...this.dir.extensions.values()].filter((e) => e.appObjectId === app.objectId);
      if (rest.length === 1 && c.method === 'GET') {
        return this.ok({ '@odata.context': `${this.v1()}/$metadata#applications('${app.objectId}')/extensionProperties`, value: exts.map(renderExt) });
      }
      if (rest.length === 1 && c.method === 'POST') {
        this.need(c, WRITE_APP);
        if (!c.claims.roles.includes('Application.ReadWrite.All') && app.clientId !== c.appId) throw insufficientPrivileges();
        return this.createExtension(c, app, exts.length);
      }
      if (rest.length === 2 && c.method === 'DELETE') {
        this.need(c, WRITE_APP);
        if (!c.claims.roles.includes('Application.ReadWrite.All') && app.clientId !== c.appId) throw insufficientPrivileges();
        const ext = exts.find((e) => e.id === rest[1]!.toLowerCase());
        if (!ext) throw notFound(rest[1]!);
        this.dir.extensions.delete(ext.name);
        return this.noContent();
      }
      if (rest.length === 2 && c.method === 'GET') {
        const ext = exts.find((e) => e.id === rest[1]!.toLowerCase());
        if (!ext) throw notFound(rest[1]!);
        return this.ok({ '@odata.context': `${this.v1()}/$metadata#applications('${app.objectId}')/extensionProperties/$entity`, ...renderExt(ext) });
      }
    }
    throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${c.segs[n - 1]}'.`);
  }

  private createExtension(c: Ctx, app: AppRegistration, existing: number): GraphResponse {
    const body = this.bodyObject(c);
    const allowed = new Set(['name', 'dataType', 'targetObjects', 'isMultiValued', '@odata.type']);
    for (const k of Object.keys(body)) if (!allowed.has(k)) throw badRequest(`Property '${k}' does not exist on type 'microsoft.graph.extensionProperty'.`);
    const { name, dataType, targetObjects, isMultiValued } = body as { name?: unknown; dataType?: unknown; targetObjects?: unknown; isMultiValued?: unknown };
    if (typeof name !== 'string' || !/^[A-Za-z0-9_]{1,120}$/.test(name)) throw badRequest("Invalid value specified for property 'name' of resource 'ExtensionProperty'.");
    const types = ['Binary', 'Boolean', 'DateTime', 'Integer', 'LargeInteger', 'String'];
    if (typeof dataType !== 'string' || !types.includes(dataType)) throw badRequest("Invalid value specified for property 'dataType' of resource 'ExtensionProperty'.");
    const targets = ['User', 'Group', 'AdministrativeUnit', 'Application', 'Device', 'Organization'];
    if (!Array.isArray(targetObjects) || targetObjects.length === 0 || targetObjects.some((t) => !targets.includes(t as string))) {
      throw badRequest("Invalid value specified for property 'targetObjects' of resource 'ExtensionProperty'.");
    }
    if (isMultiValued !== undefined && typeof isMultiValued !== 'boolean') throw badRequest("Cannot convert a primitive value to the expected type 'Edm.Boolean'. See the inner exception for more details.");
    if (existing >= 100) throw badRequest('The application already has the maximum of 100 extension properties.');
    const ext: RegisteredExtension = {
      id: randomUUID(),
      name: `extension_${app.clientId.replace(/-/g, '')}_${name}`,
      dataType,
      isMultiValued: isMultiValued === true,
      targetObjects: targetObjects as string[],
      appObjectId: app.objectId,
      appDisplayName: app.displayName,
      availableAt: this.o.clock.now() + this.dir.options.extensionPropagationMs,
    };
    this.dir.registerExtension(ext);
    return this.ok({ '@odata.context': `${this.v1()}/$metadata#applications('${app.objectId}')/extensionProperties/$entity`, ...renderExt(ext) }, 201);
  }

  // ---- $batch -------------------------------------------------------------------------------

  private async batch(req: GraphRequest, _claims: AccessTokenClaims, headers: Record<string, string>): Promise<GraphResponse> {
    const max = this.o.maxBatchRequests ?? 20;
    if (req.badJson) throw badRequest('Invalid batch payload format.', 'BadRequest');
    const body = req.body as { requests?: unknown } | undefined;
    if (!body || !Array.isArray(body.requests)) throw badRequest('Invalid batch payload format.', 'BadRequest');
    const items = body.requests as Array<Record<string, unknown>>;
    if (items.length > max) throw badRequest(`Too many requests in the batch: ${items.length}. The maximum is ${max}.`, 'BadRequest');
    if (items.length === 0) throw badRequest('Invalid batch payload format: the requests array is empty.', 'BadRequest');
    const ids = new Set<string>();
    for (const it of items) {
      if (typeof it.id !== 'string' || !it.id) throw badRequest('Batch request id is required.', 'BadRequest');
      if (ids.has(it.id)) throw badRequest(`Batch request ids must be unique; '${it.id}' is repeated.`, 'BadRequest');
      ids.add(it.id);
      if (typeof it.method !== 'string' || typeof it.url !== 'string') throw badRequest(`Invalid batch payload format: request ${it.id} needs method and url.`, 'BadRequest');
      if (/^https?:/i.test(it.url)) throw badRequest(`Request ${it.id}: the url must be relative to the version (e.g. /users).`, 'BadRequest');
      const h = (it.headers ?? {}) as Record<string, string>;
      const hasCt = Object.keys(h).some((k) => k.toLowerCase() === 'content-type');
      if (it.body !== undefined && !hasCt) throw badRequest(`Write request id : ${it.id} does not contain Content-Type header or body.`, 'BadRequest');
      if (it.dependsOn !== undefined) {
        if (!Array.isArray(it.dependsOn) || it.dependsOn.some((d) => !ids.has(d as string) || d === it.id)) {
          throw badRequest(`Request ${it.id} depends on a request that is not earlier in the batch.`, 'BadRequest');
        }
      }
    }
    const results = new Map<string, GraphResponse>();
    const responses: Array<Record<string, unknown>> = [];
    const shuffled = (this.o.batchOrder?.() ?? 'shuffled') === 'shuffled';
    const pending = [...items];
    while (pending.length) {
      // any item whose dependencies have all been answered may run next
      const ready = pending.filter((it) => ((it.dependsOn as string[] | undefined) ?? []).every((d) => results.has(d)));
      const it = shuffled ? ready[Math.floor(this.rnd() * ready.length)]! : ready[0]!;
      pending.splice(pending.indexOf(it), 1);
      const deps = (it.dependsOn as string[] | undefined) ?? [];
      const failed = deps.find((d) => (results.get(d)?.status ?? 0) >= 400);
      let res: GraphResponse;
      if (failed) {
        res = { status: 424, headers: { 'Content-Type': 'application/json' }, body: { error: { code: 'FailedDependency', message: `Request failed because request ${failed} it depends on failed.` } } };
      } else {
        const h: Record<string, string | undefined> = { authorization: req.headers.authorization, 'client-request-id': req.headers['client-request-id'], host: req.headers.host };
        for (const [k, v] of Object.entries((it.headers ?? {}) as Record<string, string>)) h[k.toLowerCase()] = v;
        let url = it.url as string;
        if (!url.startsWith('/')) url = `/${url}`;
        res = await this.handle({ method: it.method as string, url, headers: h, body: it.body }, true);
      }
      results.set(it.id as string, res);
      const itemHeaders: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (['Retry-After', 'Location', 'Content-Type', 'x-ms-throttle-scope', 'x-ms-throttle-information', 'x-ms-resource-unit', 'Cache-Control', 'OData-Version'].includes(k)) itemHeaders[k] = v;
      }
      responses.push({ id: it.id, status: res.status, headers: itemHeaders, ...(res.body !== undefined ? { body: res.body } : {}) });
    }
    return { status: 200, headers: { ...headers, 'Content-Type': JSON_TYPE }, body: { responses } };
  }
}

function renderExt(e: RegisteredExtension): Record<string, unknown> {
  return { id: e.id, deletedDateTime: null, appDisplayName: e.appDisplayName, dataType: e.dataType, isMultiValued: e.isMultiValued, isSyncedFromOnPremises: false, name: e.name, targetObjects: e.targetObjects };
}

/** A cloud object's SID as Entra derives it (S-1-12-1- plus the GUID as four uint32). */
function sidOf(id: string): string {
  const b = createHash('md5').update(id).digest();
  return `S-1-12-1-${b.readUInt32LE(0)}-${b.readUInt32LE(4)}-${b.readUInt32LE(8)}-${b.readUInt32LE(12)}`;
}
