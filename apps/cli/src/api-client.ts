import { readFileSync } from 'node:fs';

/** Thrown for a non-2xx answer of the control API; carries the API's error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const err = (body as { error?: { message?: string } })?.error;
    super(`control API answered ${status}: ${err?.message ?? JSON.stringify(body)}`);
  }
}

export interface ApiClientOptions {
  url: string;
  token: string;
}

/** Where the control API is and its token: flags, then CANOPY_API_URL / CANOPY_API_TOKEN[_FILE]. */
export function apiOptionsFromEnv(flags: { api?: string; token?: string }, env = process.env): ApiClientOptions {
  const url = flags.api ?? env.CANOPY_API_URL ?? 'http://127.0.0.1:8080';
  let token = flags.token ?? env.CANOPY_API_TOKEN;
  if (!token && env.CANOPY_API_TOKEN_FILE) token = readFileSync(env.CANOPY_API_TOKEN_FILE, 'utf8').trim();
  if (!token) throw new Error('no API token: set CANOPY_API_TOKEN or CANOPY_API_TOKEN_FILE, or pass --token');
  return { url: url.replace(/\/$/, ''), token };
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.options.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new Error(`cannot reach the control API at ${this.options.url}: ${(err as Error).cause ?? (err as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // keep text
    }
    if (!res.ok) throw new ApiError(res.status, parsed);
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }
}
