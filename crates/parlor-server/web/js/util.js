// Small helpers shared by every view: building DOM, formatting times and sizes, ids.

/** el('div', {class: 'x', onclick: f}, child, 'text') — children may be nodes, strings or arrays. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'text') node.textContent = value;
    // CSSOM, not the attribute: the page's CSP allows no inline style attributes.
    else if (key === 'style') node.style.cssText = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

/** Replaces a node's children; like el(), false, null and undefined children are left out
 * (the DOM's own append would show them as text). */
export function fill(node, ...children) {
  clear(node);
  append(node, children);
  return node;
}

/** Adds children, leaving out false, null and undefined. */
export function add(node, ...children) {
  append(node, children);
  return node;
}

const units = [
  ['year', 365 * 24 * 3600], ['month', 30 * 24 * 3600], ['week', 7 * 24 * 3600],
  ['day', 24 * 3600], ['hour', 3600], ['minute', 60],
];

/** "just now", "2 minutes ago", "yesterday". */
export function relativeTime(iso, now = Date.now()) {
  if (!iso) return '';
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (seconds < 45) return 'just now';
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of units) {
    if (seconds >= size || unit === 'minute') return format.format(-Math.max(1, Math.round(seconds / size)), unit);
  }
  return '';
}

export function clockTime(iso) {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function fullTime(iso) {
  return new Date(iso).toLocaleString();
}

export function dayLabel(iso) {
  const date = new Date(iso);
  const today = new Date();
  const yesterday = new Date(Date.now() - 86400000);
  if (date.toDateString() === today.toDateString()) return 'Today';
  if (date.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return date.toLocaleDateString(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
}

/** 48213 → "47.1 KB". */
export function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The first `count` user-perceived characters: an emoji is never cut in half. */
export function firstGraphemes(text, count) {
  const out = [];
  for (const { segment } of graphemes.segment(text)) {
    if (out.length === count) break;
    out.push(segment);
  }
  return out.join('');
}

/** "Alice Martin" → "AM"; "Team 🚀" → "T🚀"; whole characters only, never half an emoji. */
export function initials(name) {
  const words = (name || '?').trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1
    ? firstGraphemes(words[0], 1) + firstGraphemes(words[words.length - 1], 1)
    : firstGraphemes(words[0] || '?', 2);
  return letters.toUpperCase();
}

/** A stable hue per user, so an avatar without a picture is still recognisable. */
export function hue(id) {
  return (Number(id) * 137) % 360;
}

/** A client_id for idempotent sends; crypto.randomUUID needs a secure context, this does not. */
export function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return 'w-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Announce text to screen readers through the page's polite live region. */
export function announce(text) {
  const region = document.getElementById('sr-live');
  if (!region) return;
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

/** A round avatar: the picture if there is one, else initials on a colour of their own. */
export function avatar(who, { size = 40, online = null } = {}) {
  const name = who?.name || who?.title || '?';
  const picture = who?.avatar;
  const face = picture
    ? el('img', { class: 'avatar-img', src: picture, alt: '', width: size, height: size, loading: 'lazy', referrerpolicy: 'no-referrer' })
    : el('span', { class: 'avatar-initials', 'aria-hidden': 'true' }, initials(name));
  const node = el('span', { class: 'avatar', style: `--size:${size}px;--hue:${hue(who?.id || 0)}` }, face);
  if (online !== null) node.append(el('span', { class: `presence ${online ? 'is-online' : ''}`, title: online ? 'Online' : 'Offline' }));
  return node;
}
