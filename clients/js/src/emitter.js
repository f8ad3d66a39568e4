// A small event emitter: `on` answers a function that unsubscribes. One listener's exception
// never stops the others (it is reported, not swallowed).

export class Emitter {
  constructor() {
    this.listeners = new Map();
  }

  on(type, listener) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(listener);
    return () => this.off(type, listener);
  }

  off(type, listener) {
    this.listeners.get(type)?.delete(listener);
  }

  emit(type, payload) {
    for (const listener of [...(this.listeners.get(type) ?? [])]) {
      try {
        listener(payload);
      } catch (error) {
        queueMicrotask(() => { throw error; });
      }
    }
  }
}
