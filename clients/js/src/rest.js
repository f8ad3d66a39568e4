// The REST side: the token (asked of the app's getToken, kept, asked again when it expires or is
// refused), JSON requests that refresh once on 401, and errors as ApiError with the server's
// stable `code`.

export class ApiError extends Error {
  constructor(status, code, message, { body = null, retryAfter = null } = {}) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || null;
    this.body = body;
    /** Seconds, from `Retry-After` on a 429. */
    this.retryAfter = retryAfter;
  }
}

/** Seconds until a JWT's `exp`, or Infinity when it has none (or is not a JWT). */
export function expiresIn(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(globalThis.atob(part)).exp;
    return typeof exp === 'number' ? exp - Date.now() / 1000 : Infinity;
  } catch {
    return Infinity;
  }
}

export class Rest {
  constructor({ url, getToken, fetch }) {
    this.base = url.replace(/\/+$/, '');
    this.getToken = getToken;
    this.fetch = fetch;
    this.current = null;
    this.asking = null; // the getToken call in flight: callers at the same time share it
  }

  /** A token valid now: the kept one, or a new one when none is kept or it expires within 30 s. */
  async token() {
    if (this.current && expiresIn(this.current) > 30) return this.current;
    return this.ask(false);
  }

  /** After `refused` was refused (401): a new one, asked once however many requests failed. */
  async refresh(refused) {
    if (this.current && this.current !== refused) return this.current;
    return this.ask(true);
  }

  ask(refresh) {
    this.asking ??= (async () => {
      const token = await this.getToken({ refresh });
      if (typeof token !== 'string' || !token) throw new ApiError(401, 'unauthorized', 'getToken gave no token');
      this.current = token;
      return token;
    })().finally(() => { this.asking = null; });
    return this.asking;
  }

  url(path, query) {
    let url = this.base + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value === undefined || value === null) continue;
        for (const one of Array.isArray(value) ? value : [value]) params.append(key, String(one));
      }
      const text = params.toString();
      if (text) url += `?${text}`;
    }
    return url;
  }

  /**
   * One request. `body` is sent as JSON (a FormData as multipart); `auth: false` sends no token.
   * Answers the parsed JSON (null for 204); `raw: true` answers the Response itself.
   */
  async request(method, path, { query, body, auth = true, headers = {}, raw = false, signal } = {}) {
    const send = async (token) => {
      const all = { ...headers };
      if (token) all.authorization = `Bearer ${token}`;
      let payload;
      if (body instanceof FormData) payload = body;
      else if (body !== undefined) {
        all['content-type'] = 'application/json';
        payload = JSON.stringify(body);
      }
      return this.fetch(this.url(path, query), { method, headers: all, body: payload, signal });
    };
    const token = auth ? await this.token() : null;
    let response = await send(token);
    if (response.status === 401 && auth) {
      await response.body?.cancel();
      response = await send(await this.refresh(token));
    }
    if (raw && response.ok) return response;
    if (response.status === 204) return null;
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = text; }
    if (!response.ok) {
      const retry = Number(response.headers.get('retry-after'));
      throw new ApiError(response.status, data?.code, data?.message, { body: data, retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null });
    }
    return data;
  }
}
