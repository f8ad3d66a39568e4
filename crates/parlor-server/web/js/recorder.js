// Voice notes: the microphone button records with MediaRecorder, held down (released to stop)
// or clicked (stop with the button); a live level meter and the time show while recording;
// then a preview (play it, its waveform and length) with Send and Delete. Sent as an upload with
// `kind=voice` (protocol §11).

import { icon } from './icons.js';
import { upload } from './api.js';
import { store } from './store.js';
import { el, clear, newId, fill } from './util.js';
import { toast, toastError } from './toast.js';
import { voicePlayer, peaks, clock } from './media.js';
import '../vendor/fix-webm-duration.js';

const HOLD_MS = 450;
const MAX_SECONDS = 15 * 60;
const TYPES = [['audio/webm;codecs=opus', 'webm'], ['audio/ogg;codecs=opus', 'ogg'], ['audio/mp4', 'm4a'], ['audio/webm', 'webm']];

export class VoiceRecorder {
  /** `conversation()` gives the open conversation's id; `onActive(bool)` swaps the composer. */
  constructor({ conversation, onActive }) {
    this.conversation = conversation;
    this.onActive = onActive;
    this.state = 'idle';
    this.button = el('button', { class: 'icon-btn mic-btn', type: 'button', 'aria-label': 'Record a voice message', title: 'Record a voice message (hold, or click to start)' }, icon('mic'));
    this.node = el('div', { class: 'recorder', hidden: true, role: 'group', 'aria-label': 'Voice message' });
    this.button.addEventListener('pointerdown', (e) => {
      if (e.button !== 0 || this.state !== 'idle') return;
      this.pressedAt = performance.now();
      // The button hides while recording, so the release is heard on the window.
      window.addEventListener('pointerup', () => {
        if (this.state === 'recording' && this.pressedAt && performance.now() - this.pressedAt >= HOLD_MS) this.stop();
        this.pressedAt = null;
      }, { once: true });
      this.start();
    });
    // A keyboard click (no pointer) toggles recording.
    this.button.addEventListener('click', (e) => {
      if (e.detail === 0 && this.state === 'idle') this.start();
    });
  }

  async start() {
    if (!navigator.mediaDevices?.getUserMedia || !window.MediaRecorder) {
      toast('This browser cannot record audio.', { kind: 'error' });
      return;
    }
    this.state = 'starting';
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      this.state = 'idle';
      toast(error?.name === 'NotAllowedError' ? 'Allow the microphone to record a voice message.' : 'No microphone is available.', { kind: 'error' });
      return;
    }
    const [mimeType, extension] = TYPES.find(([type]) => MediaRecorder.isTypeSupported(type)) || ['', 'webm'];
    this.extension = extension;
    this.chunks = [];
    this.levels = [];
    this.recorder = new MediaRecorder(this.stream, mimeType ? { mimeType } : {});
    this.recorder.addEventListener('dataavailable', (e) => { if (e.data.size) this.chunks.push(e.data); });
    this.recorder.start(250);
    this.startedAt = performance.now();
    this.meter();
    this.state = 'recording';
    this.renderRecording();
    this.onActive(true);
    this.tick = setInterval(() => this.renderTime(), 200);
  }

  /** Samples the input level every 100 ms for the live meter and the preview's waveform. */
  meter() {
    try {
      this.audio = new AudioContext();
      const analyser = this.audio.createAnalyser();
      analyser.fftSize = 1024;
      this.audio.createMediaStreamSource(this.stream).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      this.meterTimer = setInterval(() => {
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const s of samples) sum += s * s;
        this.levels.push(Math.sqrt(sum / samples.length));
        this.renderLevels();
      }, 100);
    } catch {
      this.audio = null; // no meter, the recording still works
    }
  }

  elapsed() {
    return (performance.now() - this.startedAt) / 1000;
  }

  renderRecording() {
    this.time = el('span', { class: 'rec-time', role: 'timer', 'aria-live': 'off' }, '0:00');
    this.wave = el('div', { class: 'waveform live', 'aria-hidden': 'true' });
    fill(this.node,
      el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Delete the recording', onclick: () => this.cancel() }, icon('trash')),
      el('span', { class: 'rec-dot', 'aria-hidden': 'true' }), this.time, this.wave,
      el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Stop recording', onclick: () => this.stop() }, icon('stop')),
      el('button', { class: 'send-btn', type: 'button', 'aria-label': 'Send voice message', onclick: () => this.stop().then(() => this.send()) }, icon('send')));
    this.node.hidden = false;
    this.node.querySelector('[aria-label="Stop recording"]').focus();
  }

  renderTime() {
    if (this.state !== 'recording') return;
    const seconds = this.elapsed();
    this.time.textContent = clock(seconds);
    if (seconds >= MAX_SECONDS) this.stop();
  }

  renderLevels() {
    const recent = this.levels.slice(-32);
    const loudest = Math.max(0.05, ...this.levels);
    fill(this.wave, ...recent.map((v) => el('span', { class: 'bar is-played', style: `--h:${Math.max(8, Math.round((v / loudest) * 100))}%` })));
  }

  /** Stops recording and shows the preview. */
  stop() {
    if (this.state !== 'recording') return Promise.resolve();
    this.state = 'stopping';
    this.duration = this.elapsed();
    return new Promise((resolve) => {
      this.recorder.addEventListener('stop', async () => {
        this.release();
        const type = this.recorder.mimeType || 'audio/webm';
        let blob = new Blob(this.chunks, { type });
        if (this.extension === 'webm' && window.ysFixWebmDuration) blob = await window.ysFixWebmDuration(blob, Math.round(this.duration * 1000), { logger: false });
        this.blob = blob;
        this.state = 'preview';
        this.renderPreview();
        resolve();
      }, { once: true });
      this.recorder.stop();
    });
  }

  release() {
    clearInterval(this.tick);
    clearInterval(this.meterTimer);
    this.audio?.close().catch(() => {});
    for (const track of this.stream?.getTracks() || []) track.stop();
  }

  renderPreview() {
    const bars = this.levels.length >= 4 ? peaks(Float32Array.from(this.levels), 40) : null;
    fill(this.node,
      el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Delete the recording', onclick: () => this.cancel() }, icon('trash')),
      voicePlayer({ blob: this.blob, duration: this.duration, bars }),
      el('button', { class: 'send-btn', type: 'button', 'aria-label': 'Send voice message', onclick: () => this.send() }, icon('send')));
    this.node.querySelector('[aria-label="Send voice message"]').focus();
  }

  cancel() {
    if (this.state === 'recording') {
      this.recorder.addEventListener('stop', () => this.release(), { once: true });
      this.recorder.stop();
    }
    this.reset();
  }

  reset() {
    clearInterval(this.tick);
    this.state = 'idle';
    this.blob = null;
    this.pressedAt = null;
    clear(this.node).hidden = true;
    this.onActive(false);
  }

  async send() {
    const id = this.conversation();
    if (!this.blob || !id) return;
    if (!store.online) {
      toast('You are offline: the voice message can be sent once the connection is back.', { kind: 'error' });
      return;
    }
    const file = new File([this.blob], `voice-message.${this.extension}`, { type: this.blob.type });
    const sending = this.node.querySelector('[aria-label="Send voice message"]');
    if (sending) sending.disabled = true;
    try {
      store.addMessage(await upload(id, file, { kind: 'voice', clientId: newId() }));
      this.reset();
    } catch (error) {
      if (sending) sending.disabled = false;
      toastError(error, 'Voice message not sent');
    }
  }
}
