// The floating menu of a message (one for the whole page): quick reactions and any emoji, reply,
// forward, copy, edit, delete, "seen by" and report. Arrow keys move, Escape closes. Built with
// el(), which drops false and null, so a hidden item is never a "false" on screen.

import { icon } from './icons.js';
import { post, del } from './api.js';
import { store } from './store.js';
import { el, fill } from './util.js';
import { confirmDialog, promptDialog } from './dialogs.js';
import { toast, toastError } from './toast.js';
import { react } from './message.js';
import { forwardDialog, seenByDialog } from './message-dialogs.js';
import { emojiPicker } from './emoji.js';

const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

export class MessageMenu {
  constructor({ onReply, onEdit }) {
    this.onReply = onReply;
    this.onEdit = onEdit;
    this.messageId = null;
    this.node = el('div', { class: 'menu', role: 'menu', 'aria-label': 'Message actions', hidden: true, onkeydown: (e) => this.onKeys(e) });
    document.body.append(this.node);
    document.addEventListener('click', (e) => { if (!this.node.hidden && !this.node.contains(e.target) && !this.anchor?.contains(e.target)) this.close(); });
  }

  open(anchor, message) {
    if (this.messageId === message.id && !this.node.hidden) { this.close(); return; }
    this.anchor = anchor;
    this.returnFocus = document.activeElement;
    this.messageId = message.id;
    const mine = message.sender_id === store.me.id;
    const conversation = store.conversations.get(message.conversation_id);
    const item = (name, label, run) => el('button', { class: 'menu-item', type: 'button', role: 'menuitem', onclick: () => { this.close(); run(); } }, icon(name, 18), el('span', {}, label));
    fill(this.node,
      el('div', { class: 'menu-reactions', role: 'group', 'aria-label': 'React' },
        QUICK_REACTIONS.map((emoji) => el('button', { class: 'menu-item emoji', type: 'button', role: 'menuitem', 'aria-label': `React ${emoji}`, onclick: () => { this.close(); react(message, emoji); } }, emoji)),
        el('button', { class: 'menu-item emoji', type: 'button', role: 'menuitem', 'aria-label': 'More reactions', onclick: () => {
          const at = this.anchor;
          this.close();
          emojiPicker(at, (emoji) => react(message, emoji));
        } }, icon('smile', 20))),
      item('reply', 'Reply', () => this.onReply(message)),
      item('forward', 'Forward', () => forwardDialog(message)),
      message.content ? item('copy', 'Copy text', () => copy(message.content)) : null,
      mine && !message.attachment ? item('edit', 'Edit', () => this.onEdit(message)) : null,
      mine && conversation?.kind === 'room' ? item('eye', 'Seen by', () => seenByDialog(message)) : null,
      mine ? item('trash', 'Delete', () => remove(message)) : null,
      mine ? null : item('flag', 'Report', () => report(message)));
    this.node.hidden = false;
    const rect = anchor.getBoundingClientRect();
    const width = this.node.offsetWidth;
    const height = this.node.offsetHeight;
    this.node.style.left = `${Math.max(8, Math.min(window.innerWidth - width - 8, rect.right - width))}px`;
    this.node.style.top = `${rect.bottom + height + 8 > window.innerHeight ? Math.max(8, rect.top - height - 4) : rect.bottom + 4}px`;
    this.node.querySelector('.menu-item')?.focus();
  }

  close() {
    if (this.node.hidden) return;
    this.node.hidden = true;
    this.messageId = null;
    if (this.node.contains(document.activeElement) || document.activeElement === document.body) {
      (this.returnFocus?.isConnected ? this.returnFocus : this.anchor)?.focus?.();
    }
  }

  onKeys(event) {
    const items = [...this.node.querySelectorAll('.menu-item')];
    const index = items.indexOf(document.activeElement);
    if (event.key === 'Escape') { event.preventDefault(); this.close(); }
    if (event.key === 'Tab') this.close();
    if (event.key === 'ArrowDown' || event.key === 'ArrowRight') { event.preventDefault(); items[(index + 1) % items.length]?.focus(); }
    if (event.key === 'ArrowUp' || event.key === 'ArrowLeft') { event.preventDefault(); items[(index - 1 + items.length) % items.length]?.focus(); }
  }
}

function copy(text) {
  navigator.clipboard?.writeText(text).then(() => toast('Copied'), (error) => toastError(error, 'Cannot copy'));
}

async function remove(message) {
  if (!(await confirmDialog('Delete this message for everyone?', 'Delete'))) return;
  try { await del(`/api/chat/messages/${message.id}/`); } catch (error) { toastError(error, 'Delete failed'); }
}

async function report(message) {
  const reason = await promptDialog('Report this message', 'What is wrong with it?');
  if (reason === null) return;
  try {
    await post(`/api/chat/messages/${message.id}/report/`, { reason: reason || 'reported' });
    toast('Reported. Thank you.');
  } catch (error) {
    toastError(error, 'Report failed');
  }
}
