// @mentions: finding them in text (to highlight them, yours most), and suggesting members while
// you type "@al" in the composer (arrow keys and Enter or Tab pick, Escape closes). The server
// notifies `@username` (protocol §12.2), so suggestions insert usernames.

import { store } from './store.js';
import { el, avatar, fill } from './util.js';

const patterns = new WeakMap();

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

/** A regex of the conversation's members' usernames (group 1: what precedes, 2: the name). */
export function mentionPattern(conversation) {
  const names = conversation.members.map((m) => m.username).filter(Boolean);
  const key = names.join(' ');
  const known = patterns.get(conversation);
  if (known?.key === key) return known.value;
  const value = names.length
    ? { pattern: new RegExp(`(^|[^\\w@.-])@(${names.map(escape).join('|')})(?![\\w-])`, 'gi'), mine: (store.me.username || '').toLowerCase() }
    : null;
  patterns.set(conversation, { key, value });
  return value;
}

/** The suggestion list under a textarea. */
export class MentionSuggestions {
  constructor(input, conversationOf) {
    this.input = input;
    this.conversationOf = conversationOf;
    this.items = [];
    this.index = 0;
    this.node = el('ul', { class: 'mention-list', role: 'listbox', id: 'mention-list', 'aria-label': 'People to mention', hidden: true });
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', 'mention-list');
    input.addEventListener('input', () => this.update());
    input.addEventListener('blur', () => setTimeout(() => this.close(), 150));
  }

  /** The "@prefix" right before the caret, if any. */
  query() {
    const before = this.input.value.slice(0, this.input.selectionStart);
    const match = /(^|\s)@([\w.-]{0,32})$/.exec(before);
    return match ? { text: match[2], start: before.length - match[2].length - 1 } : null;
  }

  update() {
    const q = this.query();
    const conversation = this.conversationOf();
    if (!q || !conversation) { this.close(); return; }
    const needle = q.text.toLowerCase();
    this.items = conversation.members
      .filter((m) => m.username && m.id !== store.me.id)
      .filter((m) => m.username.toLowerCase().startsWith(needle) || m.name.toLowerCase().split(/\s+/).some((w) => w.startsWith(needle)))
      .slice(0, 6);
    if (!this.items.length) { this.close(); return; }
    this.index = Math.min(this.index, this.items.length - 1);
    this.render();
  }

  render() {
    fill(this.node, ...this.items.map((m, i) => el('li', {
      class: `mention-option ${i === this.index ? 'is-active' : ''}`, role: 'option', id: `mention-${m.id}`, 'aria-selected': String(i === this.index),
      onmousedown: (e) => { e.preventDefault(); this.pick(m); },
    }, avatar(m, { size: 24 }), el('span', { class: 'ellipsis' }, m.name), el('span', { class: 'sub ellipsis' }, `@${m.username}`))));
    this.node.hidden = false;
    this.input.setAttribute('aria-activedescendant', `mention-${this.items[this.index].id}`);
  }

  close() {
    this.node.hidden = true;
    this.items = [];
    this.index = 0;
    this.input.removeAttribute('aria-activedescendant');
  }

  get open() {
    return !this.node.hidden && this.items.length > 0;
  }

  /** Keys while the list is open; true when the key was handled here. */
  onKey(event) {
    if (!this.open) return false;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      this.index = (this.index + (event.key === 'ArrowDown' ? 1 : -1) + this.items.length) % this.items.length;
      this.render();
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      this.pick(this.items[this.index]);
    } else if (event.key === 'Escape') {
      this.close();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  pick(member) {
    const q = this.query();
    if (!q) return;
    const value = this.input.value;
    const end = this.input.selectionStart;
    const inserted = `@${member.username} `;
    this.input.value = value.slice(0, q.start) + inserted + value.slice(end);
    const caret = q.start + inserted.length;
    this.input.setSelectionRange(caret, caret);
    this.close();
    this.input.dispatchEvent(new Event('input'));
    this.close();
  }
}
