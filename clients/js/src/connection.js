// The one WebSocket: connects with a one-time ticket, resumes from the caller's cursors as its
// first frame, keeps itself alive with pings, and reconnects with exponential backoff and jitter.
// It emits 'frame' (a parsed server frame, pongs excepted) and 'state' ({state, detail}: state is
// 'connecting', 'online' (resumed), 'offline' (reconnecting) or 'closed' (stopped, signed out or
// disabled)). Works with the browser's WebSocket or any implementation of the same interface.

import { ApiError } from './rest.js';
import { Emitter } from './emitter.js';

const PING_EVERY_MS = 20000;
const PONG_WITHIN_MS = 10000;
const OPEN = 1;

export class Connection extends Emitter {
  constructor({ rest, WebSocket, cursors, path = '/ws/', backoff = {} }) {
    super();
    if (!WebSocket) throw new TypeError('no WebSocket implementation: pass one as `WebSocket` (Node 20: the `ws` package)');
    this.rest = rest;
    this.WebSocket = WebSocket;
    this.cursors = cursors; // async () => {conversation_id: event seq}
    this.path = path;
    this.backoff = { initialMs: 500, maxMs: 30000, ...backoff };
    this.ws = null;
    this.attempt = 0;
    this.state = 'closed';
    this.stopped = true;
    this.timer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.handshakeFailures = 0;
    this.userId = null;
    this.onOffline = () => this.drop('No network connection');
    this.onOnline = () => this.reconnectNow();
  }

  setState(state, detail = null) {
    this.state = state;
    this.emit('state', { state, detail });
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    globalThis.addEventListener?.('offline', this.onOffline);
    globalThis.addEventListener?.('online', this.onOnline);
    this.connect();
  }

  networkUp() {
    return globalThis.navigator?.onLine ?? true;
  }

  async connect() {
    clearTimeout(this.timer);
    if (this.stopped || this.ws) return;
    if (!this.networkUp()) {
      this.setState('offline', 'No network connection');
      return;
    }
    this.setState('connecting');
    let credential;
    try {
      // A refused handshake looks like any close (1006) to a browser: after one, ask over REST,
      // which refreshes an expired token and tells a disabled account apart.
      if (this.handshakeFailures > 0) await this.rest.request('GET', '/api/users/me/');
      const token = await this.rest.token();
      // A one-time ticket keeps the token out of the URL, where proxies log it; a server without
      // tickets (404) takes the token itself.
      credential = await this.rest.request('POST', '/api/auth/ws-ticket').then(
        ({ ticket }) => `ticket=${encodeURIComponent(ticket)}`,
        (error) => {
          if (error instanceof ApiError && error.status === 404) return `token=${encodeURIComponent(token)}`;
          throw error;
        },
      );
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        this.halt(error.code === 'account_disabled' ? 'disabled' : 'signed-out');
        return;
      }
      this.scheduleReconnect();
      return;
    }
    if (this.stopped || this.ws) return;
    const base = this.rest.base.replace(/^http/, 'ws');
    let established = false;
    let ws;
    try {
      ws = new this.WebSocket(`${base}${this.path}?${credential}`);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (event) => {
      if (this.ws !== ws) return; // a socket already dropped: its late frames mean nothing
      let frame;
      try {
        frame = JSON.parse(typeof event.data === 'string' ? event.data : String(event.data));
      } catch {
        return;
      }
      this.alive();
      if (frame.type === 'connection_established') {
        this.handshakeFailures = 0;
        established = true;
        this.userId = frame.user_id;
        // Resume must be the first frame: the server holds live events until it is handled.
        // A frame names at most RESUME_MAX conversations (the server's
        // limits.resume_max_conversations); online once every part is replayed.
        this.resumesPending = 1;
        Promise.resolve(this.cursors(frame.user_id)).then((cursors) => {
          if (this.ws !== ws || ws.readyState !== OPEN) return;
          const parts = resumeParts(cursors);
          this.resumesPending = parts.length;
          for (const conversations of parts) ws.send(JSON.stringify({ type: 'resume', conversations }));
        }, () => ws.close(4000, 'client could not read its cursors'));
      }
      if (frame.type === 'resumed') {
        this.resumesPending -= 1;
        if (this.resumesPending <= 0) {
          this.attempt = 0;
          this.setState('online');
        }
      }
      if (frame.type === 'pong') return;
      this.emit('frame', frame);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopPinging();
      if (!established) this.handshakeFailures += 1;
      if (event.code === 4003) {
        this.halt('disabled');
        return;
      }
      // The session was ended (its refresh token was used twice, protocol §2.1): sign in again.
      if (event.code === 4001) {
        this.halt('signed-out');
        return;
      }
      this.setState('offline', this.networkUp() ? 'Reconnecting…' : 'No network connection');
      if (this.networkUp()) this.scheduleReconnect();
    };
    ws.onerror = () => {}; // a close follows; an unhandled 'error' would crash Node's `ws`
    ws.onopen = () => this.startPinging();
  }

  /** Sends a frame if the socket is up and resumed; false otherwise (queue or use REST). */
  send(frame) {
    if (this.ws && this.ws.readyState === OPEN && this.state === 'online') {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  delay() {
    // Doubling from initialMs to maxMs, each delay drawn from its upper half so clients spread out.
    const ceiling = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** this.attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  scheduleReconnect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const delay = this.delay();
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    this.attempt = 0;
    if (!this.ws && !this.stopped) this.connect();
  }

  /** Closes the socket and reconnects later (network change, missed pong). */
  drop(reason) {
    const ws = this.ws;
    this.ws = null;
    this.stopPinging();
    if (ws) ws.close(4000, 'client reconnecting');
    if (this.stopped) return;
    this.setState('offline', this.networkUp() ? 'Reconnecting…' : reason);
    if (this.networkUp()) this.scheduleReconnect();
  }

  /** Stops for good: the credentials were refused or the account is disabled. */
  halt(detail) {
    this.teardown();
    this.setState('closed', detail);
  }

  /** Closes the socket and stops reconnecting (sign out, `client.close()`). */
  stop() {
    this.teardown();
    if (this.state !== 'closed') this.setState('closed', 'stopped');
  }

  teardown() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stopPinging();
    globalThis.removeEventListener?.('offline', this.onOffline);
    globalThis.removeEventListener?.('online', this.onOnline);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, 'client closed');
  }

  startPinging() {
    this.stopPinging();
    this.pingTimer = setInterval(() => {
      if (!this.ws || this.ws.readyState !== OPEN) return;
      this.ws.send('{"type":"ping"}');
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this.drop('The server stopped answering'), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  alive() {
    clearTimeout(this.pongTimer);
  }

  stopPinging() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
  }
}

/** Most conversations one `resume` frame names: the server's default limit. */
const RESUME_MAX = 500;

/** `{conversation_id: seq}` cut into objects of at most RESUME_MAX entries (always one at least). */
function resumeParts(cursors) {
  const entries = Object.entries(cursors || {});
  const parts = [];
  for (let i = 0; i < entries.length; i += RESUME_MAX) parts.push(Object.fromEntries(entries.slice(i, i + RESUME_MAX)));
  return parts.length ? parts : [{}];
}
