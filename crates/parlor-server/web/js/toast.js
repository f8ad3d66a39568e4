// Toasts: short messages in the corner. Errors are announced assertively, the rest politely.

import { el } from './util.js';

export function toast(text, { kind = 'info', action, timeout = 5000 } = {}) {
  const host = document.getElementById('toasts');
  if (!host) return;
  const close = () => node.remove();
  const node = el('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    el('span', { class: 'toast-text', text }),
    action && el('button', { class: 'link', type: 'button', onclick: () => { action.run(); close(); } }, action.label),
    el('button', { class: 'icon-btn toast-close', type: 'button', 'aria-label': 'Dismiss', onclick: close }, '×'));
  host.append(node);
  while (host.children.length > 4) host.firstChild.remove();
  if (timeout) setTimeout(close, timeout);
}

export function toastError(error, prefix) {
  const text = error instanceof TypeError ? 'Network error: check your connection' : (error?.message || 'Something went wrong');
  toast(prefix ? `${prefix}: ${text}` : text, { kind: 'error' });
}
