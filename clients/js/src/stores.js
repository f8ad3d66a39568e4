// Where the client keeps what must outlive a page or a process: resume cursors and the outbox.
// A store is three async methods over JSON values, { get(key), set(key, value), delete(key) }, so
// an app can bring its own (a file, a database); three come with the SDK.

/** In memory: gone with the process (a server-side bot, tests). */
export function memoryStore() {
  const data = new Map();
  return {
    async get(key) { return data.has(key) ? structuredClone(data.get(key)) : undefined; },
    async set(key, value) { data.set(key, structuredClone(value)); },
    async delete(key) { data.delete(key); },
  };
}

/** In localStorage (or any Web Storage), under `prefix`: shared by the tabs of one origin. */
export function localStorageStore({ prefix = 'parlor.', storage = globalThis.localStorage } = {}) {
  if (!storage) throw new TypeError('localStorageStore: no localStorage here; pass `storage`');
  return {
    async get(key) {
      try {
        const text = storage.getItem(prefix + key);
        return text === null ? undefined : JSON.parse(text);
      } catch {
        return undefined; // a corrupt entry is the same as none
      }
    },
    async set(key, value) { storage.setItem(prefix + key, JSON.stringify(value)); },
    async delete(key) { storage.removeItem(prefix + key); },
  };
}

/** In IndexedDB (database `name`, one object store): for larger outboxes and workers. */
export function indexedDBStore({ name = 'parlor', indexedDB = globalThis.indexedDB } = {}) {
  if (!indexedDB) throw new TypeError('indexedDBStore: no IndexedDB here; pass `indexedDB`');
  let opened = null;
  const database = () => {
    opened ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore('kv');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return opened;
  };
  const run = async (mode, act) => {
    const db = await database();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction('kv', mode);
      const request = act(transaction.objectStore('kv'));
      // Resolved once the transaction commits, so a write is durable when its promise is.
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  };
  return {
    get: (key) => run('readonly', (kv) => kv.get(key)),
    set: async (key, value) => { await run('readwrite', (kv) => kv.put(value, key)); },
    delete: async (key) => { await run('readwrite', (kv) => kv.delete(key)); },
  };
}
