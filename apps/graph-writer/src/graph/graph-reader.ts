import { CanopyError } from '@canopy/errors';
import type { Logger } from '@canopy/logger';
import { sleep } from '../rate/sleep.js';
import type { ThrottleGate } from '../rate/throttle-gate.js';
import type { GraphClient } from './graph-client.js';
import { classifyGraphResponse } from './graph-errors.js';

/**
 * Reads (lookups by anchor, current values, members). They cost resource units, not write quota,
 * so they take nothing from the shared write quota, but they respect the shared pause and set it on a 429.
 */
export class GraphReader {
  constructor(
    private readonly graph: GraphClient,
    private readonly gate: ThrottleGate,
    private readonly log: Logger,
    private readonly onThrottled?: (ms: number) => void,
  ) {}

  async get<T = Record<string, unknown>>(path: string, headers?: Record<string, string>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await this.gate.waitOpen();
      const res = await this.graph.request({ method: 'GET', path, headers }).catch((err: unknown) => {
        if (attempt < 4) return undefined;
        throw err;
      });
      if (!res) {
        await sleep(250 * 2 ** attempt);
        continue;
      }
      const err = classifyGraphResponse(res.status, res.headers, res.body, `GET ${path.split('?')[0]}`);
      if (!err) return res.body as T;
      if (res.status === 429) {
        const ms = err.nextRetryDelayMs ?? 1000;
        this.onThrottled?.(ms);
        await this.gate.pause(ms, 'graph 429 on read').catch(() => undefined);
      }
      if (!err.retriable || attempt >= 6) throw err;
      await sleep(res.status === 429 ? 0 : (err.nextRetryDelayMs ?? 250 * 2 ** attempt));
    }
  }

  /** GET, answering undefined on 404. */
  async find<T = Record<string, unknown>>(path: string, headers?: Record<string, string>): Promise<T | undefined> {
    try {
      return await this.get<T>(path, headers);
    } catch (err) {
      if (err instanceof CanopyError && err.details.httpStatus === 404) return undefined;
      throw err;
    }
  }

  /** Every page of a collection. */
  async all<T = Record<string, unknown>>(path: string, headers?: Record<string, string>): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = path;
    while (next) {
      const page: { value?: T[]; '@odata.nextLink'?: string } = await this.get(next, headers);
      out.push(...(page.value ?? []));
      const link = page['@odata.nextLink'];
      next = link ? this.relative(link) : undefined;
    }
    return out;
  }

  relative(link: string): string {
    const base = this.graph.baseUrl;
    if (link.startsWith(base)) return link.slice(base.length);
    const u = new URL(link);
    return u.pathname.replace(/^\/(v1\.0|beta)/, '') + u.search;
  }
}
