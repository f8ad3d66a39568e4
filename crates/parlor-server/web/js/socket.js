// The one WebSocket: connects with a one-time ticket, resumes from the caller's cursors, keeps
// itself alive, and reconnects with exponential backoff and jitter. It tells what happens as
// events: 'frame' (detail: the parsed frame) and 'state' (detail: {state, detail}, state one of
// 'connecting', 'online' (resumed), 'offline', 'closed').

import { freshToken, get, post, ApiError } from './api.js';

const PING_EVERY_MS = 20000;
const PONG_WITHIN_MS = 10000;

export class Socket extends EventTarget {
  constructor({ cursors }) {
    super();
    this.cursors = cursors; // () => {conversation_id: seq}
    this.ws = null;
    this.attempt = 0;
    this.state = 'closed';
    this.stopped = false;
    this.timer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.handshakeFailures = 0;
    window.addEventListener('offline', () => this.drop('the browser went offline'));
    window.addEventListener('online', () => this.reconnectNow());
  }

  setState(state, detail) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, detail } }));
  }

  async connect() {
    clearTimeout(this.timer);
    if (this.stopped || this.ws) return;
    if (!navigator.onLine) {
      this.setState('offline', 'No network connection');
      return;
    }
    this.setState('connecting');
    let credential;
    try {
      // A refused handshake looks like any close (1006) to a browser: after one, ask over REST,
      // which refreshes an expired token and tells a disabled account apart.
      if (this.handshakeFailures > 0) await get('/api/users/me/');
      const token = await freshToken();
      // A one-time ticket keeps the access token out of the URL, where proxies log it; a server
      // without tickets (404) takes the token itself.
      credential = await post('/api/auth/ws-ticket').then(
        ({ ticket }) => `ticket=${encodeURIComponent(ticket)}`,
        (error) => {
          if (error instanceof ApiError && error.status === 404) return `token=${encodeURIComponent(token)}`;
          throw error;
        },
      );
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        this.setState('closed', error.code === 'account_disabled' ? 'disabled' : 'signed-out');
        return;
      }
      this.scheduleReconnect();
      return;
    }
    if (this.stopped || this.ws) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    let established = false;
    const ws = new WebSocket(`${scheme}://${location.host}/ws/?${credential}`);
    this.ws = ws;
    ws.onmessage = (event) => {
      if (this.ws !== ws) return; // a socket already dropped: its late frames mean nothing
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      this.alive();
      if (frame.type === 'connection_established') {
        this.handshakeFailures = 0;
        established = true;
        // Resume must be the first frame: the server holds live events until it is handled.
        ws.send(JSON.stringify({ type: 'resume', conversations: this.cursors() }));
        return;
      }
      if (frame.type === 'resumed') {
        this.attempt = 0;
        this.setState('online');
      }
      if (frame.type === 'pong') return;
      this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopPinging();
      if (!established) this.handshakeFailures += 1;
      if (event.code === 4003) {
        this.stopped = true;
        this.setState('closed', 'disabled');
        return;
      }
      // The session was ended (its refresh token was used twice, protocol §2.1): sign in again.
      if (event.code === 4001) {
        this.stopped = true;
        this.setState('closed', 'signed-out');
        return;
      }
      this.setState('offline', navigator.onLine ? 'Reconnecting…' : 'No network connection');
      if (navigator.onLine) this.scheduleReconnect();
    };
    ws.onopen = () => this.startPinging();
  }

  /** Sends a frame if the socket is up; false otherwise (callers fall back to REST or queue). */
  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.state === 'online') {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  scheduleReconnect() {
    clearTimeout(this.timer);
    // 0.5 s doubling to 30 s, each delay drawn from its upper half so clients spread out.
    const ceiling = Math.min(30000, 500 * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    this.attempt = 0;
    if (!this.ws) this.connect();
  }

  /** Closes the socket and reconnects later (network change, missed pong). */
  drop(reason) {
    const ws = this.ws;
    this.ws = null;
    this.stopPinging();
    if (ws) ws.close(4000, 'client reconnecting');
    this.setState('offline', navigator.onLine ? 'Reconnecting…' : reason);
    if (navigator.onLine) this.scheduleReconnect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.stopPinging();
    if (this.ws) this.ws.close(1000, 'signed out');
    this.ws = null;
  }

  startPinging() {
    this.stopPinging();
    this.pingTimer = setInterval(() => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
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
