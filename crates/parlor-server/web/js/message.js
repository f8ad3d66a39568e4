// One message on screen: bubble, avatar, reply quote, image or file card, reactions, time,
// and ticks (sent / delivered / read); the menu to reply, react, edit, delete and report.

import { icon } from './icons.js';
import { post, del, blobUrl } from './api.js';
import { store } from './store.js';
import { el, clear, avatar, clockTime, fullTime, fileSize } from './util.js';
import { lightbox, confirmDialog, promptDialog } from './dialogs.js';
import { toast, toastError } from './toast.js';

const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

/** "read", "delivered" or "sent" for one of my messages, from the other members' positions. */
export function tickState(conversation, seq) {
  const others = conversation.members.filter((m) => m.id !== store.me.id);
  if (!others.length) return 'sent';
  if (others.every((m) => (m.last_read_seq || 0) >= seq)) return 'read';
  if (others.every((m) => Math.max(m.delivered_seq || 0, m.last_read_seq || 0) >= seq)) return 'delivered';
  return 'sent';
}

const TICKS = {
  pending: ['🕓', 'Sending…'], sent: ['✓', 'Sent'], delivered: ['✓✓', 'Delivered'], read: ['✓✓', 'Read'], failed: ['⚠', 'Not sent'],
};

function ticks(state) {
  const [glyph, label] = TICKS[state];
  return el('span', { class: `ticks ticks-${state}`, title: label, 'aria-label': label, dataset: { state } }, glyph);
}

/** Text with web links made clickable; everything else stays text (never HTML). */
function richText(content) {
  const node = el('div', { class: 'text', dir: 'auto' });
  const parts = content.split(/(https?:\/\/[^\s<>"]+)/g);
  parts.forEach((part, i) => {
    if (i % 2 === 1) node.append(el('a', { href: part, target: '_blank', rel: 'noopener noreferrer nofollow' }, part));
    else if (part) node.append(part);
  });
  return node;
}

function imageBox(attachment) {
  // Reserve the final size before the bytes arrive so the log does not jump.
  const scale = attachment.height ? Math.min(1, 256 / attachment.height, 280 / attachment.width) : 1;
  const width = attachment.width ? Math.round(attachment.width * scale) : 200;
  const height = attachment.height ? Math.round(attachment.height * scale) : 160;
  const img = el('img', { class: 'thumb', alt: attachment.name, width, height });
  blobUrl(attachment.thumbnail_url || attachment.url).then((url) => { img.src = url; }, () => img.classList.add('is-broken'));
  return el('button', { class: 'image-button', type: 'button', 'aria-label': `Open image ${attachment.name}`, onclick: () => lightbox(attachment) }, img);
}

async function download(attachment) {
  try {
    const url = await blobUrl(attachment.url);
    const link = el('a', { href: url, download: attachment.name });
    document.body.append(link);
    link.click();
    link.remove();
  } catch (error) {
    toastError(error, 'Download failed');
  }
}

function fileCard(attachment) {
  return el('button', { class: 'file-card', type: 'button', title: `Download ${attachment.name}`, onclick: () => download(attachment) },
    el('span', { class: 'file-icon' }, icon('file', 26)),
    el('span', { class: 'file-meta' }, el('span', { class: 'file-name' }, attachment.name), el('span', { class: 'file-size' }, fileSize(attachment.size))),
    el('span', { class: 'file-download' }, icon('download')));
}

function attachmentNode(attachment) {
  if (attachment.expired) return el('div', { class: 'file-card is-expired' }, `${attachment.name} (expired)`);
  if (attachment.kind === 'image' && attachment.url) return imageBox(attachment);
  return fileCard(attachment);
}

export function renderMessage(message, { conversation, grouped, menu, focus }) {
  if (message.kind === 'system') {
    return el('div', { class: 'system-msg', dataset: { seq: message.seq, id: message.id } }, message.content);
  }
  const mine = message.sender_id === store.me.id;
  const bubble = el('div', { class: 'bubble' });
  if (!mine && conversation.kind !== 'direct' && !grouped) bubble.append(el('div', { class: 'sender', style: `--hue:${(message.sender_id * 137) % 360}` }, message.sender_name));
  if (message.forwarded) bubble.append(el('div', { class: 'forwarded' }, '↪ Forwarded'));
  if (message.reply_to) {
    const r = message.reply_to;
    bubble.append(el('div', { class: 'reply-quote' }, el('span', { class: 'reply-name' }, r.sender_name), el('span', { class: 'reply-text' }, r.deleted ? 'Message deleted' : r.content)));
  }
  if (message.deleted) {
    bubble.append(el('div', { class: 'text is-deleted' }, 'This message was deleted'));
  } else {
    if (message.attachment) bubble.append(attachmentNode(message.attachment));
    if (message.content) bubble.append(richText(message.content));
  }
  const meta = el('div', { class: 'meta' },
    message.edited_at && !message.deleted && el('span', { class: 'edited' }, 'edited'),
    el('time', { datetime: message.created_at, title: fullTime(message.created_at) }, clockTime(message.created_at)),
    mine && !message.deleted && ticks(tickState(conversation, message.seq)));
  bubble.append(meta);
  if (message.reactions?.length) {
    bubble.append(el('div', { class: 'reactions' }, message.reactions.map((r) => el('button', {
      class: `reaction ${r.user_ids.includes(store.me.id) ? 'is-mine' : ''}`, type: 'button',
      'aria-label': `${r.emoji} ${r.count}, ${r.user_ids.includes(store.me.id) ? 'remove your reaction' : 'react'}`,
      onclick: () => react(message, r.emoji),
    }, `${r.emoji} ${r.count}`))));
  }
  const row = el('div', {
    class: `msg ${mine ? 'mine' : 'theirs'} ${grouped ? 'grouped' : ''} ${focus ? 'is-focused' : ''}`,
    dataset: { seq: message.seq, id: message.id, clientId: message.client_id || '' },
  });
  if (!mine) row.append(grouped ? el('span', { class: 'avatar-space' }) : avatar({ id: message.sender_id, name: message.sender_name, avatar: message.sender_avatar }, { size: 32 }));
  row.append(bubble);
  if (!message.deleted) {
    row.append(el('button', { class: 'icon-btn msg-menu-btn', type: 'button', 'aria-label': 'Message actions', 'aria-haspopup': 'menu', onclick: (e) => menu.open(e.currentTarget, message) }, icon('more', 18)));
  }
  return row;
}

/** A message still in the outbox: shown at the end with a clock, or "not sent" with retry. */
export function renderPending(entry) {
  const failed = entry.status === 'failed';
  const bubble = el('div', { class: 'bubble' },
    entry.reply_preview && el('div', { class: 'reply-quote' }, el('span', { class: 'reply-name' }, entry.reply_preview.sender_name), el('span', { class: 'reply-text' }, entry.reply_preview.content)),
    richText(entry.content),
    el('div', { class: 'meta' }, el('time', { datetime: entry.created_at }, clockTime(entry.created_at)), ticks(failed ? 'failed' : 'pending')));
  if (failed) {
    bubble.append(el('div', { class: 'failed-note', role: 'alert' }, entry.error || 'Not sent',
      el('button', { class: 'link', type: 'button', onclick: () => store.retry(entry.client_id) }, 'Retry'),
      el('button', { class: 'link', type: 'button', onclick: () => store.discard(entry.client_id) }, 'Delete')));
  }
  return el('div', { class: `msg mine is-pending ${failed ? 'is-failed' : ''}`, dataset: { clientId: entry.client_id } }, bubble);
}

async function react(message, emoji) {
  try {
    const updated = await post(`/api/chat/messages/${message.id}/reactions/`, { emoji });
    store.patchMessage(message.conversation_id, message.id, { reactions: updated.reactions });
  } catch (error) {
    toastError(error, 'Reaction failed');
  }
}

/** The floating menu of a message; one for the whole page. Arrow keys move, Escape closes. */
export class MessageMenu {
  constructor({ onReply, onEdit }) {
    this.onReply = onReply;
    this.onEdit = onEdit;
    this.messageId = null;
    this.node = el('div', { class: 'menu', role: 'menu', hidden: true, onkeydown: (e) => this.onKeys(e) });
    document.body.append(this.node);
    document.addEventListener('click', (e) => { if (!this.node.hidden && !this.node.contains(e.target) && !this.anchor?.contains(e.target)) this.close(); });
  }

  open(anchor, message) {
    if (this.messageId === message.id && !this.node.hidden) { this.close(); return; }
    this.anchor = anchor;
    this.messageId = message.id;
    const mine = message.sender_id === store.me.id;
    const item = (label, run) => el('button', { class: 'menu-item', type: 'button', role: 'menuitem', onclick: () => { this.close(); run(); } }, label);
    clear(this.node).append(
      el('div', { class: 'menu-reactions', role: 'group', 'aria-label': 'React' }, QUICK_REACTIONS.map((emoji) =>
        el('button', { class: 'menu-item emoji', type: 'button', role: 'menuitem', 'aria-label': `React ${emoji}`, onclick: () => { this.close(); react(message, emoji); } }, emoji))),
      item('↩ Reply', () => this.onReply(message)),
      message.content && item('⧉ Copy text', () => navigator.clipboard?.writeText(message.content).then(() => toast('Copied'))),
      mine && !message.attachment && item('✎ Edit', () => this.onEdit(message)),
      mine && item('🗑 Delete', async () => {
        if (!(await confirmDialog('Delete this message for everyone?', 'Delete'))) return;
        try { await del(`/api/chat/messages/${message.id}/`); } catch (error) { toastError(error, 'Delete failed'); }
      }),
      !mine && item('⚑ Report', async () => {
        const reason = await promptDialog('Report this message', 'What is wrong with it?');
        if (reason === null) return;
        try { await post(`/api/chat/messages/${message.id}/report/`, { reason: reason || 'reported' }); toast('Reported. Thank you.'); } catch (error) { toastError(error, 'Report failed'); }
      }));
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
    if (this.node.contains(document.activeElement)) this.anchor?.focus();
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

