// The REST client: the session (tokens), requests with refresh-on-401, uploads with progress,
// and authenticated blobs (attachments need the Authorization header, which <img> cannot send).

const STORAGE_KEY = 'parlor.session';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

/** Standalone sessions live in localStorage; host-app (embedded) ones only in memory. */
export const session = {
  access: null,
  refresh: null,
  user: null,
  embedded: false,
  /** In embedded mode, asks the host page for a fresh token (set by main.js). */
  requestHostToken: null,

  load() {
    const saved = storedSession();
    if (saved && saved.access) Object.assign(this, { access: saved.access, refresh: saved.refresh, user: saved.user });
    return Boolean(this.access);
  },

  set({ access, refresh, user }) {
    this.access = access;
    if (refresh !== undefined) this.refresh = refresh;
    if (user) this.user = user;
    if (!this.embedded) {
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ access: this.access, refresh: this.refresh, user: this.user }));
    }
  },

  clear() {
    this.access = this.refresh = this.user = null;
    if (!this.embedded) localStorage.removeItem(STORAGE_KEY);
  },

  /** Seconds until the access token expires (from its `exp` claim), or Infinity if unknown. */
  expiresIn() {
    try {
      const claims = JSON.parse(atob(this.access.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      return claims.exp - Date.now() / 1000;
    } catch {
      return Infinity;
    }
  },
};

function storedSession() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
  } catch {
    return null; // a corrupt entry is the same as none
  }
}

let refreshing = null;

/** Gets a new access token once, however many requests ask at the same time. */
export function refreshToken() {
  if (!refreshing) {
    refreshing = (async () => {
      if (session.embedded) {
        const token = session.requestHostToken ? await session.requestHostToken() : null;
        if (!token) throw new ApiError(401, 'unauthorized', 'the host page gave no token');
        session.set({ access: token });
        return;
      }
      // Refresh tokens are single use and every tab of this user shares one: tabs take turns
      // (Web Locks), and a tab that finds a newer pair stored by another simply adopts it.
      const run = async () => {
        const stored = storedSession();
        if (stored?.refresh && stored.refresh !== session.refresh) {
          Object.assign(session, { access: stored.access, refresh: stored.refresh });
          return;
        }
        if (!session.refresh) throw new ApiError(401, 'unauthorized', 'signed out');
        const response = await fetch('/api/auth/refresh', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refresh: session.refresh }),
        });
        const body = await response.json().catch(() => ({}));
        if (!response.ok) throw new ApiError(response.status, body.code, body.message);
        session.set(body);
      };
      if (navigator.locks) await navigator.locks.request('parlor.refresh', run);
      else await run();
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** Makes sure the token will still be valid for a while (before opening a socket). */
export async function freshToken() {
  if (session.expiresIn() < 30) await refreshToken();
  return session.access;
}

/** A JSON request; 401 refreshes the token and retries once. Network failures throw TypeError. */
export async function api(method, path, body, retried = false) {
  const headers = { authorization: `Bearer ${session.access}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401 && !retried && !path.startsWith('/api/auth/')) {
    await refreshToken();
    return api(method, path, body, true);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data?.code, data?.message);
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

/** Sign in or register without a token. */
export async function authenticate(kind, fields) {
  const response = await fetch(`/api/auth/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fields),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data.code, data.message);
  session.set(data);
  return data;
}

/** Multipart upload with progress (fetch cannot report upload progress; XHR can). */
export function upload(conversationId, file, { caption, clientId, kind, onProgress }, retried = false) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    if (caption) form.append('caption', caption);
    if (clientId) form.append('client_id', clientId);
    if (kind) form.append('kind', kind);
    form.append('file', file, file.name || 'pasted-image.png');
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/chat/conversations/${conversationId}/attachments/`);
    xhr.setRequestHeader('authorization', `Bearer ${session.access}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onerror = () => reject(new TypeError('network error during upload'));
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status === 401 && !retried) {
        refreshToken().then(() => upload(conversationId, file, { caption, clientId, kind, onProgress }, true)).then(resolve, reject);
      } else if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data?.code, data?.message));
    };
    xhr.send(form);
  });
}

const blobs = new Map();

/** An authenticated file as a Blob, fetched once per URL (attachments are never public). */
export function blobOf(path) {
  if (!blobs.has(path)) {
    const pending = (async () => {
      let response = await fetch(path, { headers: { authorization: `Bearer ${session.access}` } });
      if (response.status === 401) {
        await refreshToken();
        response = await fetch(path, { headers: { authorization: `Bearer ${session.access}` } });
      }
      if (!response.ok) throw new ApiError(response.status, 'not_found', 'file is not available');
      return response.blob();
    })();
    pending.catch(() => blobs.delete(path));
    blobs.set(path, pending);
  }
  return blobs.get(path);
}

const objectUrls = new Map();

/** An object URL for an authenticated file (for <img>, which cannot send a token). */
export function blobUrl(path) {
  if (!objectUrls.has(path)) {
    const pending = blobOf(path).then((blob) => URL.createObjectURL(blob));
    pending.catch(() => objectUrls.delete(path));
    objectUrls.set(path, pending);
  }
  return objectUrls.get(path);
}
