// Toasts: short messages where they cover nothing you type into (app.css places them). Errors
// are announced assertively, the rest politely.

import { el } from './util.js';
import { icon } from './icons.js';

export function toast(text, { kind = 'info', action, timeout = 5000 } = {}) {
  const host = document.getElementById('toasts');
  if (!host) return;
  const close = () => node.remove();
  const node = el('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    el('span', { class: 'toast-text', text }),
    action ? el('button', { class: 'link', type: 'button', onclick: () => { action.run(); close(); } }, action.label) : null,
    el('button', { class: 'icon-btn toast-close', type: 'button', 'aria-label': 'Dismiss', onclick: close }, icon('close', 18)));
  host.append(node);
  while (host.children.length > 4) host.firstChild.remove();
  if (timeout) setTimeout(close, timeout);
}

export function toastError(error, prefix) {
  const text = error instanceof TypeError ? 'Network error: check your connection' : (error?.message || 'Something went wrong');
  toast(prefix ? `${prefix}: ${text}` : text, { kind: 'error' });
}
