// Voice and video calls (docs/calls.md): the header's call buttons start one; an incoming call
// rings (a tone made with Web Audio, no sound file) on a screen with accept and decline; in a
// call: mute, camera on/off, switch camera or microphone, share the screen (its track replaces
// the camera's), hang up, the duration, and a tile per person. Signaling is the socket's call_*
// frames; media goes peer to peer, one RTCPeerConnection per other device (a full mesh): those
// already in a call offer to whoever joins.

import { get } from './api.js';
import { store } from './store.js';
import { el, fill } from './util.js';
import { icon } from './icons.js';
import { toast } from './toast.js';

const ENDINGS = {
  hangup: 'Call ended', missed: 'No answer', declined: 'Call declined', busy: 'Busy: they are in another call',
  cancelled: 'Call cancelled', caller_gone: 'Call ended: the caller left', answered_elsewhere: null,
};
/** How long a call started while the socket is (re)connecting waits for it before giving up. */
const ONLINE_WAIT_MS = 5000;

export class Calls {
  constructor({ send, online }) {
    this.send = send;
    this.online = online;
    this.call = null; // {id, conversationId, media, phase, myPeer, peers: Map(peer -> {pc, user, tile, pending})}
    this.incoming = null; // {call_id, conversation_id, media, caller_name}
    this.local = null; // the camera/microphone MediaStream
    this.screen = null; // the shared screen's MediaStream, while sharing
    this.tiles = new Map(); // peer (or 'self') -> its tile, kept so video keeps playing across renders
    // A modal <dialog>: the app behind it is inert while a call rings or runs.
    this.node = el('dialog', { class: 'call-layer', oncancel: (e) => this.onEscape(e) });
    this.live = el('div', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
    document.body.append(this.node, this.live);
    window.parlorCalls = this; // for the browser tests: stats() and the state
  }

  /** Starts a call in a conversation (the header's buttons). */
  async start(conversationId, media) {
    if (this.call || this.incoming) return;
    this.call = { id: null, conversationId, media, phase: 'calling', peers: new Map(), myPeer: null, startedAt: null };
    this.render();
    try {
      await this.openMedia(media);
    } catch (error) {
      this.teardown();
      toast(`Cannot use your ${media === 'video' ? 'camera or microphone' : 'microphone'}: ${error.message}`, { kind: 'error' });
      return;
    }
    const call = this.call;
    if (!call) return;
    const invite = { type: 'call_invite', conversation_id: conversationId, media };
    if (this.send(invite)) return;
    // A page that just opened, or a moment's reconnection: wait for the socket a little.
    const online = await this.online(ONLINE_WAIT_MS);
    if (this.call !== call) return; // hung up while waiting
    if (online && this.send(invite)) return;
    this.teardown();
    toast('You are offline: the call cannot start.', { kind: 'error' });
  }

  onFrame(frame) {
    const call = this.call;
    switch (frame.type) {
      case 'call_invited':
        if (call && !call.id && call.conversationId === frame.conversation_id) {
          Object.assign(call, { id: frame.call_id, myPeer: frame.peer });
          this.render();
        }
        break;
      case 'call_incoming':
        if (call || this.incoming) break; // already busy here: the other call keeps this tab
        this.incoming = frame;
        this.send({ type: 'call_ringing', call_id: frame.call_id });
        this.ring(true);
        this.renderIncoming();
        break;
      case 'call_ringing':
        if (call?.id === frame.call_id && call.phase === 'calling') { call.phase = 'ringing'; this.render(); }
        break;
      case 'call_accepted':
        if (call?.id === frame.call_id) this.onAccepted(frame);
        break;
      case 'call_signal':
        if (call?.id === frame.call_id) this.onSignal(frame).catch((e) => console.warn('call signal', e));
        break;
      case 'call_declined':
        if (call?.id === frame.call_id && store.conversations.get(call.conversationId)?.kind !== 'direct') {
          toast(`${this.nameOf(frame.user_id)} declined`);
        }
        break;
      case 'call_left':
        if (call?.id === frame.call_id) this.dropPeer(frame.peer);
        break;
      case 'call_ended':
        if (this.incoming?.call_id === frame.call_id) this.stopRinging();
        if (call?.id === frame.call_id) this.end(frame.reason);
        break;
      case 'error':
        // A refused invite (a room too large, already in a call...): say why, start nothing.
        if (call && !call.id && ['call_unavailable', 'not_found', 'rate_limited', 'validation_failed'].includes(frame.code)) {
          this.teardown();
          toast(frame.message, { kind: 'error' });
        }
        break;
      default:
    }
  }

  async accept() {
    const offer = this.incoming;
    if (!offer) return;
    this.stopRinging();
    this.call = { id: offer.call_id, conversationId: offer.conversation_id, media: offer.media, phase: 'joining', peers: new Map(), myPeer: null, startedAt: null };
    this.render();
    try {
      await this.openMedia(offer.media);
    } catch (error) {
      toast(`Cannot use your ${offer.media === 'video' ? 'camera or microphone' : 'microphone'}: ${error.message}`, { kind: 'error' });
      this.send({ type: 'call_decline', call_id: offer.call_id });
      this.teardown();
      return;
    }
    this.send({ type: 'call_accept', call_id: offer.call_id });
  }

  decline() {
    const offer = this.incoming;
    if (!offer) return;
    this.send({ type: 'call_decline', call_id: offer.call_id });
    this.stopRinging();
  }

  hangUp() {
    if (this.call?.id) this.send({ type: 'call_end', call_id: this.call.id });
    this.end('hangup');
  }

  onAccepted(frame) {
    const call = this.call;
    if (call.phase === 'joining' && frame.user_id === store.me.id && !call.myPeer) {
      // This device joined: those already in the call offer to it.
      call.myPeer = frame.peer;
      for (const p of frame.participants) if (p.peer !== frame.peer) this.peerFor(p.peer, p.user_id);
    } else if (frame.peer !== call.myPeer) {
      this.offerTo(frame.peer, frame.user_id).catch((e) => console.warn('call offer', e));
    }
    call.phase = 'active';
    call.startedAt ??= Date.now();
    this.announce('Call connected');
    this.render();
  }

  peerFor(peer, user) {
    const known = this.call.peers.get(peer);
    if (known) return known;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers || [] });
    const entry = { pc, user, pending: [], stream: new MediaStream(), tile: null };
    for (const track of this.local.getTracks()) pc.addTrack(track, this.local);
    if (this.screen) this.replaceVideo(this.screen.getVideoTracks()[0]);
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) this.signal(peer, { candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track }) => {
      entry.stream.addTrack(track);
      this.render();
    };
    pc.onconnectionstatechange = () => this.render();
    this.call.peers.set(peer, entry);
    this.render();
    return entry;
  }

  async offerTo(peer, user) {
    const { pc } = this.peerFor(peer, user);
    await pc.setLocalDescription(await pc.createOffer());
    this.signal(peer, { sdp: pc.localDescription.toJSON() });
  }

  async onSignal({ from, from_user: user, data }) {
    const entry = this.peerFor(from, user);
    const { pc } = entry;
    if (data.sdp) {
      await pc.setRemoteDescription(data.sdp);
      for (const candidate of entry.pending.splice(0)) await pc.addIceCandidate(candidate).catch(() => {});
      if (data.sdp.type === 'offer') {
        await pc.setLocalDescription(await pc.createAnswer());
        this.signal(from, { sdp: pc.localDescription.toJSON() });
      }
    } else if (data.candidate) {
      if (pc.remoteDescription) await pc.addIceCandidate(data.candidate).catch(() => {});
      else entry.pending.push(data.candidate);
    }
  }

  signal(to, data) {
    this.send({ type: 'call_signal', call_id: this.call.id, to, data });
  }

  dropPeer(peer) {
    const entry = this.call?.peers.get(peer);
    if (!entry) return;
    entry.pc.close();
    this.call.peers.delete(peer);
    this.announce(`${this.nameOf(entry.user)} left the call`);
    this.render();
  }

  async openMedia(media) {
    const ice = await get('/api/calls/ice-servers').catch(() => null);
    this.iceServers = ice?.ice_servers || [];
    this.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: media === 'video' });
  }

  toggleMute() {
    for (const track of this.local?.getAudioTracks() || []) track.enabled = !track.enabled;
    this.render();
  }

  toggleCamera() {
    for (const track of this.local?.getVideoTracks() || []) track.enabled = !track.enabled;
    this.render();
  }

  /** The next camera (video calls) or microphone: its track replaces the current one everywhere. */
  async switchDevice() {
    const kind = this.call.media === 'video' ? 'videoinput' : 'audioinput';
    const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === kind);
    const current = (kind === 'videoinput' ? this.local.getVideoTracks() : this.local.getAudioTracks())[0];
    const index = devices.findIndex((d) => d.deviceId === current?.getSettings().deviceId);
    const next = devices[(index + 1) % devices.length];
    if (!next || devices.length < 2) {
      toast(`No other ${kind === 'videoinput' ? 'camera' : 'microphone'} found`);
      return;
    }
    const constraint = { deviceId: { exact: next.deviceId } };
    const fresh = await navigator.mediaDevices.getUserMedia(kind === 'videoinput' ? { video: constraint } : { audio: constraint });
    const track = fresh.getTracks()[0];
    track.enabled = current ? current.enabled : true;
    for (const { pc } of this.call.peers.values()) {
      const sender = pc.getSenders().find((s) => s.track?.kind === track.kind);
      await sender?.replaceTrack(track);
    }
    if (current) { this.local.removeTrack(current); current.stop(); }
    this.local.addTrack(track);
    this.announce(`Switched to ${next.label || 'another device'}`);
    this.render();
  }

  /** Screen sharing: the screen's track replaces the camera's on every connection, and back. */
  async toggleScreen() {
    if (this.screen) { this.stopScreen(); return; }
    try {
      this.screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
    } catch {
      return; // the person chose not to share
    }
    const track = this.screen.getVideoTracks()[0];
    track.addEventListener('ended', () => this.stopScreen());
    this.replaceVideo(track);
    this.announce('You are sharing your screen');
    this.render();
  }

  stopScreen() {
    if (!this.screen) return;
    this.screen.getTracks().forEach((t) => t.stop());
    this.screen = null;
    this.replaceVideo(this.local?.getVideoTracks()[0] || null);
    this.announce('Screen sharing stopped');
    this.render();
  }

  replaceVideo(track) {
    for (const { pc } of this.call?.peers.values() || []) {
      const sender = pc.getSenders().find((s) => s.track?.kind === 'video');
      if (sender) sender.replaceTrack(track);
    }
  }

  end(reason) {
    const text = ENDINGS[reason] ?? 'Call ended';
    const duration = this.call?.startedAt ? ` · ${clock(Date.now() - this.call.startedAt)}` : '';
    this.teardown();
    if (text) { toast(`${text}${duration}`); this.announce(text); }
  }

  teardown() {
    for (const { pc } of this.call?.peers.values() || []) pc.close();
    for (const stream of [this.local, this.screen]) stream?.getTracks().forEach((t) => t.stop());
    Object.assign(this, { call: null, local: null, screen: null });
    this.tiles.clear();
    clearInterval(this.timer);
    this.timer = null;
    this.restoreFocus();
    this.render();
  }

  // ---- ringing -------------------------------------------------------------------------------
  ring(on) {
    if (!on) {
      clearInterval(this.ringer);
      this.audio?.close().catch(() => {});
      this.audio = null;
      return;
    }
    try {
      this.audio = new AudioContext();
    } catch {
      return;
    }
    // Two tones together, two seconds on and four off, as a phone rings.
    const burst = () => {
      const ctx = this.audio;
      if (!ctx) return;
      const gain = ctx.createGain();
      gain.gain.setValueAtTime(0.0001, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.15, ctx.currentTime + 0.05);
      gain.gain.setValueAtTime(0.15, ctx.currentTime + 1.9);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 2);
      gain.connect(ctx.destination);
      for (const hz of [440, 480]) {
        const tone = ctx.createOscillator();
        tone.frequency.value = hz;
        tone.connect(gain);
        tone.start();
        tone.stop(ctx.currentTime + 2);
      }
    };
    burst();
    this.ringer = setInterval(burst, 6000);
  }

  stopRinging() {
    this.ring(false);
    this.incoming = null;
    this.restoreFocus();
    this.render();
  }

  // ---- screens -------------------------------------------------------------------------------
  nameOf(userId) {
    for (const c of store.conversations.values()) {
      const member = c.members?.find((m) => m.id === userId);
      if (member) return member.name;
    }
    return 'Someone';
  }

  titleOf(conversationId) {
    const c = store.conversations.get(conversationId);
    return c ? store.title(c) : 'Call';
  }

  announce(text) {
    this.live.textContent = text;
  }

  /** Back to where the person was (the header re-renders: the same button by its label). */
  restoreFocus() {
    const was = this.returnFocus;
    this.returnFocus = null;
    if (!was) return;
    const label = was.getAttribute?.('aria-label');
    const again = was.isConnected ? was : label && document.querySelector(`#app [aria-label="${CSS.escape(label)}"]`);
    again?.focus();
  }

  render() {
    if (this.incoming && !this.call) return this.renderIncoming();
    if (!this.call) {
      if (this.node.open) this.node.close();
      fill(this.node);
      return;
    }
    this.renderCall();
  }

  show(role, labelling) {
    this.node.setAttribute('role', role);
    for (const name of ['aria-label', 'aria-labelledby', 'aria-describedby']) this.node.removeAttribute(name);
    for (const [name, value] of Object.entries(labelling)) this.node.setAttribute(name, value);
    if (!this.node.open) this.node.showModal();
  }

  /** Escape declines a ringing call; it never closes a call in progress by accident. */
  onEscape(event) {
    event.preventDefault();
    if (this.incoming && !this.call) this.decline();
  }

  renderIncoming() {
    const offer = this.incoming;
    if (!this.node.open) this.returnFocus ??= document.activeElement;
    const title = el('h2', { id: 'call-incoming-title' }, offer.caller_name);
    const accept = el('button', { class: 'call-btn accept', type: 'button', onclick: () => this.accept() }, icon(offer.media === 'video' ? 'video' : 'phone', 24), el('span', {}, 'Accept'));
    const decline = el('button', { class: 'call-btn hang-up', type: 'button', onclick: () => this.decline() }, icon('phoneOff', 24), el('span', {}, 'Decline'));
    const kind = offer.media === 'video' ? 'Incoming video call' : 'Incoming voice call';
    const where = store.conversations.get(offer.conversation_id)?.kind === 'direct' ? '' : ` in ${this.titleOf(offer.conversation_id)}`;
    fill(this.node, el('div', { class: 'call-incoming', onkeydown: (e) => this.trapFocus(e) },
      el('div', { class: 'call-pulse', 'aria-hidden': 'true' }, icon(offer.media === 'video' ? 'video' : 'phone', 40)),
      title, el('p', { id: 'call-incoming-what' }, `${kind}${where}`),
      el('div', { class: 'call-actions' }, decline, accept)));
    this.show('alertdialog', { 'aria-labelledby': 'call-incoming-title', 'aria-describedby': 'call-incoming-what' });
    accept.focus();
  }

  renderCall() {
    const call = this.call;
    const first = !this.node.open || !this.node.querySelector('.call-screen');
    if (first) this.returnFocus ??= document.activeElement;
    const audio = this.local?.getAudioTracks()[0];
    const video = this.local?.getVideoTracks()[0];
    const muted = audio ? !audio.enabled : false;
    const cameraOff = video ? !video.enabled : true;
    const status = { calling: 'Calling…', ringing: 'Ringing…', joining: 'Connecting…' }[call.phase];
    const tiles = [this.tile('self', store.me.name, this.screen || this.local, { self: true, muted, video: call.media === 'video', screen: Boolean(this.screen) })];
    for (const [peer, entry] of call.peers) {
      tiles.push(this.tile(peer, this.nameOf(entry.user), entry.stream, { state: entry.pc.connectionState, video: call.media === 'video' }));
    }
    for (const key of this.tiles.keys()) if (key !== 'self' && !call.peers.has(key)) this.tiles.delete(key);
    const button = (label, name, onclick, { pressed, cls = '' } = {}) => el('button', {
      class: `call-btn ${cls}`, type: 'button', 'aria-label': label, title: label, onclick,
      'aria-pressed': pressed === undefined ? null : String(pressed),
    }, icon(name, 22));
    const controls = el('div', { class: 'call-controls', role: 'toolbar', 'aria-label': 'Call controls' },
      button('Mute', muted ? 'micOff' : 'mic', () => this.toggleMute(), { pressed: muted }),
      call.media === 'video' && button('Camera off', cameraOff ? 'videoOff' : 'video', () => this.toggleCamera(), { pressed: cameraOff }),
      button(call.media === 'video' ? 'Switch camera' : 'Switch microphone', 'switchCamera', () => this.switchDevice().catch((e) => toast(e.message, { kind: 'error' }))),
      call.media === 'video' && 'getDisplayMedia' in (navigator.mediaDevices || {}) && button('Share screen', 'screen', () => this.toggleScreen(), { pressed: Boolean(this.screen) }),
      button('Hang up', 'phoneOff', () => this.hangUp(), { cls: 'hang-up' }));
    const duration = el('span', { class: 'call-duration', role: 'timer', 'aria-label': 'Call duration' }, status || clock(Date.now() - (call.startedAt || Date.now())));
    const keep = first ? null : this.node.querySelector('.call-controls')?.contains(document.activeElement) ? document.activeElement.getAttribute('aria-label') : null;
    fill(this.node, el('section', { class: 'call-screen', dataset: { media: call.media, phase: call.phase }, onkeydown: (e) => this.trapFocus(e) },
      el('header', { class: 'call-head' }, el('h2', {}, this.titleOf(call.conversationId)), duration),
      el('div', { class: 'call-tiles', dataset: { count: tiles.length } }, tiles),
      controls));
    this.show('dialog', { 'aria-label': `Call with ${this.titleOf(call.conversationId)}` });
    const again = keep && this.node.querySelector(`.call-controls [aria-label="${keep}"]`);
    if (again) again.focus();
    else if (first) this.node.querySelector('.hang-up')?.focus();
    if (call.startedAt && !this.timer) {
      this.timer = setInterval(() => {
        const shown = this.node.querySelector('.call-duration');
        if (shown && this.call?.startedAt) shown.textContent = clock(Date.now() - this.call.startedAt);
      }, 1000);
    }
  }

  /** Tab goes round inside the call screen. */
  trapFocus(event) {
    if (event.key !== 'Tab') return;
    const buttons = [...this.node.querySelectorAll('button')];
    if (!buttons.length) return;
    const [firstButton, last] = [buttons[0], buttons[buttons.length - 1]];
    if (event.shiftKey && document.activeElement === firstButton) { last.focus(); event.preventDefault(); }
    else if (!event.shiftKey && document.activeElement === last) { firstButton.focus(); event.preventDefault(); }
  }

  /** A person's tile: their video (or their initial in a voice call) and name, reused while the
   * stream is the same so playback never restarts. */
  tile(key, name, stream, { self = false, muted = false, state = null, video = true, screen = false }) {
    let known = this.tiles.get(key);
    if (!known || known.stream !== stream) {
      const media = el(video ? 'video' : 'audio', { autoplay: true, playsinline: true, 'aria-hidden': 'true' });
      media.muted = self; // never hear yourself
      if (stream) media.srcObject = stream;
      const caption = el('figcaption', {});
      const node = el('figure', { class: `call-tile ${self ? 'is-self' : ''} ${screen ? 'is-screen' : ''}`, dataset: { peer: key } },
        media, !video && el('span', { class: 'call-initial', 'aria-hidden': 'true' }, [...name][0]?.toUpperCase() || '?'), caption);
      known = { node, caption, stream };
      this.tiles.set(key, known);
    }
    known.node.dataset.state = state || '';
    known.caption.textContent = self ? `${name} (you)${muted ? ', muted' : ''}` : `${name}${state && state !== 'connected' ? `, ${state}` : ''}`;
    return known.node;
  }

  /** Per other device: the connection's state and the RTP bytes received so far (tests). */
  async stats() {
    const out = [];
    for (const [peer, { pc, user }] of this.call?.peers || []) {
      let bytes = 0;
      let relay = false;
      const report = await pc.getStats();
      report.forEach((s) => {
        if (s.type === 'inbound-rtp') bytes += s.bytesReceived || 0;
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
          relay ||= report.get(s.localCandidateId)?.candidateType === 'relay';
        }
      });
      const sending = pc.getSenders().find((s) => s.track?.kind === 'video')?.track?.label || null;
      out.push({ peer, user, state: pc.connectionState, bytes, relay, sending });
    }
    return out;
  }
}

function clock(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const mm = String(Math.floor(seconds / 60) % 60).padStart(h ? 2 : 1, '0');
  const ss = String(seconds % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
