// Standalone mode: parlor's own accounts. passwordAuth signs in (or registers) and gives the
// getToken createClient needs, refreshing with the single-use refresh token when asked; the
// tokens are kept in a store (memory by default, localStorage in a browser that should stay
// signed in).

import { ApiError } from './rest.js';
import { memoryStore } from './stores.js';

export function passwordAuth({ url = globalThis.location?.origin, store = memoryStore(), key = 'session', fetch = globalThis.fetch?.bind(globalThis) } = {}) {
  const base = url.replace(/\/+$/, '');
  let refreshing = null;

  const call = async (path, body) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, data.code, data.message, { body: data });
    return data;
  };
  const keep = async (data) => {
    await store.set(key, { access: data.access, refresh: data.refresh, user: data.user ?? null });
    return data;
  };

  return {
    /** Signs in: {access, refresh, user}. */
    login: (username, password) => call('/api/auth/token', { username, password }).then(keep),
    /** Creates an account and signs in. */
    register: (fields) => call('/api/auth/register', fields).then(keep),
    /** The signed-in user as last stored, or null. */
    user: async () => (await store.get(key))?.user ?? null,
    signOut: () => store.delete(key),
    /** For createClient: the stored access token, or a refreshed one when `refresh` is true. */
    async getToken({ refresh = false } = {}) {
      const saved = await store.get(key);
      if (!saved?.access) throw new ApiError(401, 'unauthorized', 'signed out');
      if (!refresh) return saved.access;
      // Refresh tokens are single use: however many ask at once, one refresh.
      refreshing ??= (async () => {
        const data = await call('/api/auth/refresh', { refresh: saved.refresh });
        await keep({ ...data, user: data.user ?? saved.user });
        return data.access;
      })().finally(() => { refreshing = null; });
      return refreshing;
    },
  };
}
