// Players: audio and video files play inline with the browser's controls (duration, seeking),
// streamed from the server with Range requests through the service worker, which adds the
// token (offline.js); voice notes get a play button, a waveform you can seek on and their
// duration. Waveforms come from the audio itself, decoded in the browser.

import { icon } from './icons.js';
import { blobOf, blobUrl } from './api.js';
import { el, fill } from './util.js';
import { canStream } from './offline.js';

/** A URL a media element can play: the server's own (ranged, streamed) when the service worker
 * can add the token, else the whole file as a blob. */
export function mediaSource(path) {
  return canStream() ? Promise.resolve(path) : blobUrl(path);
}

/** "0:07", "12:04", "1:02:03". */
export function clock(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return '0:00';
  const s = Math.floor(seconds % 60);
  const m = Math.floor(seconds / 60) % 60;
  const h = Math.floor(seconds / 3600);
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** An audio or video file: the browser's player, with the file's name and a download fallback. */
export function mediaPlayer(attachment, fileCard) {
  const video = attachment.kind === 'video';
  const player = el(video ? 'video' : 'audio', {
    class: video ? 'video-player' : 'audio-player', controls: true, preload: 'metadata', playsinline: true,
    'aria-label': `${video ? 'Video' : 'Audio'}: ${attachment.name}`,
    width: video && attachment.width ? attachment.width : null, height: video && attachment.height ? attachment.height : null,
  });
  mediaSource(attachment.url).then((src) => { player.src = src; }, () => player.replaceWith(fileCard(attachment)));
  player.addEventListener('error', () => {
    // A format this browser cannot play is still a file you can download.
    if (player.isConnected) player.replaceWith(fileCard(attachment));
  });
  return el('div', { class: `media ${video ? 'media-video' : 'media-audio'}` }, player,
    video ? null : el('span', { class: 'media-name ellipsis' }, attachment.name));
}

/** Bar heights (0..1) for a waveform of `count` bars from decoded audio samples. */
export function peaks(samples, count) {
  const size = Math.max(1, Math.floor(samples.length / count));
  const bars = [];
  for (let i = 0; i < count; i += 1) {
    let sum = 0;
    const start = i * size;
    const end = Math.min(samples.length, start + size);
    for (let j = start; j < end; j += 1) sum += samples[j] * samples[j];
    bars.push(Math.sqrt(sum / Math.max(1, end - start)));
  }
  // The square root lifts quiet passages, as the ear hears them.
  const loudest = Math.max(...bars, 1e-6);
  return bars.map((b) => Math.max(0.12, Math.sqrt(b / loudest)));
}

async function decode(blob) {
  const context = new OfflineAudioContext(1, 1, 44100);
  const audio = await context.decodeAudioData(await blob.arrayBuffer());
  return { duration: audio.duration, bars: peaks(audio.getChannelData(0), 40) };
}

/**
 * A voice note: play/pause, a waveform that shows progress and seeks on click or arrow keys,
 * and the time. `source` is an attachment (from the server) or a local {blob, duration, bars}
 * (the recording's preview).
 */
export function voicePlayer(source) {
  const audio = el('audio', { preload: 'auto', class: 'voice-audio' });
  const button = el('button', { class: 'voice-play', type: 'button', 'aria-label': 'Play voice message' }, icon('play', 18));
  const wave = el('div', { class: 'waveform', role: 'slider', tabindex: '0', 'aria-label': 'Voice message position', 'aria-valuemin': '0', 'aria-valuemax': '0', 'aria-valuenow': '0', 'aria-valuetext': '0:00' });
  const time = el('span', { class: 'voice-time' }, '0:00');
  let duration = source.duration || 0;
  let bars = source.bars || Array.from({ length: 40 }, () => 0.15);

  const draw = () => {
    const played = duration ? audio.currentTime / duration : 0;
    fill(wave, ...bars.map((h, i) => el('span', { class: `bar ${i / bars.length < played ? 'is-played' : ''}`, style: `--h:${Math.round(h * 100)}%` })));
  };
  const update = () => {
    const now = audio.currentTime;
    time.textContent = audio.paused && now === 0 ? clock(duration) : `${clock(now)} / ${clock(duration)}`;
    wave.setAttribute('aria-valuemax', String(Math.round(duration)));
    wave.setAttribute('aria-valuenow', String(Math.round(now)));
    wave.setAttribute('aria-valuetext', `${clock(now)} of ${clock(duration)}`);
    draw();
  };
  const seek = (seconds) => {
    if (!duration) return;
    audio.currentTime = Math.max(0, Math.min(duration, seconds));
    update();
  };
  button.addEventListener('click', (e) => {
    e.stopPropagation();
    if (audio.paused) audio.play().catch(() => {});
    else audio.pause();
  });
  audio.addEventListener('play', () => { fill(button, icon('pause', 18)); button.setAttribute('aria-label', 'Pause voice message'); });
  audio.addEventListener('pause', () => { fill(button, icon('play', 18)); button.setAttribute('aria-label', 'Play voice message'); });
  audio.addEventListener('timeupdate', update);
  audio.addEventListener('ended', () => { audio.currentTime = 0; update(); });
  audio.addEventListener('loadedmetadata', () => {
    if (!duration && Number.isFinite(audio.duration)) { duration = audio.duration; update(); }
  });
  wave.addEventListener('click', (e) => {
    e.stopPropagation();
    const rect = wave.getBoundingClientRect();
    seek(((e.clientX - rect.left) / rect.width) * duration);
  });
  wave.addEventListener('keydown', (e) => {
    const step = { ArrowRight: 5, ArrowUp: 5, ArrowLeft: -5, ArrowDown: -5 }[e.key];
    if (step) { e.preventDefault(); seek(audio.currentTime + step); }
    if (e.key === 'Home') { e.preventDefault(); seek(0); }
    if (e.key === 'End') { e.preventDefault(); seek(duration); }
  });

  const node = el('div', { class: 'voice', dataset: { state: 'loading' } }, button, wave, time, audio);
  const load = source.blob ? Promise.resolve(source.blob) : blobOf(source.url);
  load.then(async (blob) => {
    audio.src = URL.createObjectURL(blob);
    if (!source.bars || !source.duration) {
      const decoded = await decode(blob).catch(() => null);
      if (decoded) ({ duration, bars } = decoded);
    }
    node.dataset.state = 'ready';
    update();
  }, () => { node.dataset.state = 'error'; time.textContent = 'Not available'; button.disabled = true; });
  update();
  return node;
}
