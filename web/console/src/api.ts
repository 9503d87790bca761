/**
 * The console's one door to the monitor: same-origin fetch with the session cookie, the CSRF token on
 * every write, JSON in and out, and a typed failure that keeps the API's `{ error, message }`.
 */
export interface User {
  readonly name: string;
  readonly role: 'viewer' | 'operator' | 'admin';
}

export class ApiFailure extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfterS: number | undefined;
  constructor(status: number, code: string, message: string, retryAfterS?: number) {
    super(message);
    this.name = 'ApiFailure';
    this.status = status;
    this.code = code;
    this.retryAfterS = retryAfterS;
  }
}

export const API = '/api/v1';
let csrfToken: string | undefined;
let onUnauthorized: () => void = () => undefined;

export function setCsrf(token: string | undefined): void {
  csrfToken = token;
}

/** What to do when a request says the session is gone (401): show the sign-in page. */
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(`${API}${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json ?? {}) as { error?: string; message?: string };
    const retry = Number(res.headers.get('retry-after'));
    if (res.status === 401 && path !== '/session') onUnauthorized();
    throw new ApiFailure(
      res.status,
      e.error ?? 'http',
      e.message ?? `${res.status} ${res.statusText}`,
      Number.isFinite(retry) && retry > 0 ? retry : undefined,
    );
  }
  return json as T;
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => call<T>('POST', path, body),
  del: (path: string) => call<void>('DELETE', path),
};

export function canOperate(user: User | undefined): boolean {
  return user?.role === 'operator' || user?.role === 'admin';
}
