// One message on screen, as a list item: bubble, avatar, reply quote (a button that jumps to the
// original), image, player or file card, reactions, time, and ticks (sent / delivered / read,
// told to screen readers in words). The menu of a message lives in message-menu.js.

import { icon } from './icons.js';
import { post, blobUrl } from './api.js';
import { store } from './store.js';
import { el, avatar, clockTime, fullTime, fileSize } from './util.js';
import { lightbox } from './dialogs.js';
import { toastError } from './toast.js';
import { mediaPlayer, voicePlayer } from './media.js';
import { mentionPattern } from './mentions.js';

/** "read", "delivered" or "sent" for one of my messages, from the other members' positions. */
export function tickState(conversation, seq) {
  const others = conversation.members.filter((m) => m.id !== store.me.id);
  if (!others.length) return 'sent';
  if (others.every((m) => (m.last_read_seq || 0) >= seq)) return 'read';
  if (others.every((m) => Math.max(m.delivered_seq || 0, m.last_read_seq || 0) >= seq)) return 'delivered';
  return 'sent';
}

const TICKS = {
  pending: ['clock', 'Sending'], sent: ['check', 'Sent'], delivered: ['ticks', 'Delivered'], read: ['ticks', 'Read'], failed: ['alert', 'Not sent'],
};

/** Ticks as an icon for the eye and a word for screen readers (a label on a span is not read). */
function ticks(state) {
  const [name, label] = TICKS[state];
  return el('span', { class: `ticks ticks-${state}`, title: label, dataset: { state } }, icon(name, 16), el('span', { class: 'sr-only' }, label));
}

/** Text with web links made clickable and @mentions marked; never HTML. */
export function richText(content, conversation) {
  const node = el('div', { class: 'text', dir: 'auto' });
  const mentions = conversation ? mentionPattern(conversation) : null;
  const parts = content.split(/(https?:\/\/[^\s<>"]+)/g);
  parts.forEach((part, i) => {
    if (i % 2 === 1) node.append(el('a', { href: part, target: '_blank', rel: 'noopener noreferrer nofollow' }, part));
    else if (part && mentions) appendMentions(node, part, mentions);
    else if (part) node.append(part);
  });
  return node;
}

function appendMentions(node, text, { pattern, mine }) {
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const start = match.index + match[1].length;
    node.append(text.slice(last, start));
    const name = match[2];
    node.append(el('span', { class: `mention ${name.toLowerCase() === mine ? 'is-me' : ''}` }, `@${name}`));
    last = start + name.length + 1;
  }
  node.append(text.slice(last));
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

export function fileCard(attachment) {
  return el('button', { class: 'file-card', type: 'button', 'aria-label': `Download ${attachment.name}, ${fileSize(attachment.size)}`, onclick: () => download(attachment) },
    el('span', { class: 'file-icon' }, icon('file', 26)),
    el('span', { class: 'file-meta' }, el('span', { class: 'file-name' }, attachment.name), el('span', { class: 'file-size' }, fileSize(attachment.size))),
    el('span', { class: 'file-download' }, icon('download')));
}

function attachmentNode(attachment) {
  if (attachment.expired) return el('div', { class: 'file-card is-expired' }, `${attachment.name} (expired)`);
  if (attachment.kind === 'image' && attachment.url) return imageBox(attachment);
  if (attachment.kind === 'voice') return voicePlayer(attachment);
  if (attachment.kind === 'audio' || attachment.kind === 'video') return mediaPlayer(attachment, fileCard);
  return fileCard(attachment);
}

function replyQuote(reply, onJump) {
  const text = reply.deleted ? 'Message deleted' : reply.content || 'Attachment';
  return el('button', { class: 'reply-quote', type: 'button', onclick: (e) => { e.stopPropagation(); onJump?.(reply.id); } },
    el('span', { class: 'reply-name' }, el('span', { class: 'sr-only' }, 'Reply to '), reply.sender_name), el('span', { class: 'reply-text' }, text, el('span', { class: 'sr-only' }, '. Show the original')));
}

/** A short description of a message for labels: "Alice Martin: Hi Bob…". */
export function describe(message) {
  const what = message.deleted ? 'deleted message' : (message.content || message.preview || message.attachment?.name || 'message');
  const short = [...what].length > 40 ? `${[...what].slice(0, 40).join('')}…` : what;
  return `${message.sender_name}: ${short}`;
}

export function renderMessage(message, { conversation, grouped, menu, focus, onJump }) {
  if (message.kind === 'system') {
    return el('li', { class: 'system-msg', dataset: { seq: message.seq, id: message.id } }, message.content);
  }
  if (message.kind === 'call') return callNote(message);
  const mine = message.sender_id === store.me.id;
  const bubble = el('div', { class: 'bubble' });
  const showName = !mine && conversation.kind !== 'direct' && !grouped;
  if (showName) bubble.append(el('div', { class: 'sender', style: `--hue:${(message.sender_id * 137) % 360}` }, message.sender_name));
  else bubble.append(el('span', { class: 'sr-only' }, `${mine ? 'You' : message.sender_name}: `));
  if (message.forwarded) bubble.append(el('div', { class: 'forwarded' }, icon('forward', 14), ' Forwarded'));
  if (message.reply_to) bubble.append(replyQuote(message.reply_to, onJump));
  if (message.deleted) {
    bubble.append(el('div', { class: 'text is-deleted' }, 'This message was deleted'));
  } else {
    if (message.attachment) bubble.append(attachmentNode(message.attachment));
    if (message.content) bubble.append(richText(message.content, conversation));
  }
  bubble.append(el('div', { class: 'meta' },
    message.edited_at && !message.deleted && el('span', { class: 'edited' }, 'edited'),
    el('time', { datetime: message.created_at, title: fullTime(message.created_at) }, clockTime(message.created_at)),
    mine && !message.deleted && ticks(tickState(conversation, message.seq))));
  if (message.reactions?.length) {
    bubble.append(el('div', { class: 'reactions' }, message.reactions.map((r) => {
      const reacted = r.user_ids.includes(store.me.id);
      return el('button', {
        class: `reaction ${reacted ? 'is-mine' : ''}`, type: 'button', 'aria-pressed': String(reacted),
        'aria-label': `${r.emoji} ${r.count}, ${reacted ? 'remove your reaction' : 'react'}`,
        onclick: (e) => { e.stopPropagation(); react(message, r.emoji); },
      }, `${r.emoji} ${r.count}`);
    })));
  }
  const row = el('li', {
    class: `msg ${mine ? 'mine' : 'theirs'} ${grouped ? 'grouped' : ''} ${focus ? 'is-focused' : ''}`,
    tabindex: '-1',
    dataset: { seq: message.seq, id: message.id, clientId: message.client_id || '' },
  });
  if (!mine) row.append(grouped ? el('span', { class: 'avatar-space' }) : avatar({ id: message.sender_id, name: message.sender_name, avatar: message.sender_avatar }, { size: 32 }));
  row.append(bubble);
  const canAct = !message.deleted && conversation.is_member !== false;
  if (canAct) {
    row.append(el('button', {
      class: 'icon-btn msg-menu-btn', type: 'button', 'aria-label': `Actions for ${describe(message)}`, 'aria-haspopup': 'menu',
      onclick: (e) => { e.stopPropagation(); menu.open(e.currentTarget, message); },
    }, icon('more', 18)));
    // Touch screens have no hover: a tap on the bubble (not on a link or control in it), or a
    // long press, opens the menu instead of a button beside every message.
    bubble.addEventListener('click', (e) => {
      if (!matchMedia('(hover: none)').matches || e.target.closest('a, button, audio, video, input')) return;
      menu.open(bubble, message);
    });
    bubble.addEventListener('contextmenu', (e) => {
      if (e.target.closest('a, audio, video')) return;
      e.preventDefault();
      menu.open(bubble, message);
    });
  }
  return row;
}

/** A call's record: voice or video, answered (and how long), missed, declined or busy. */
function callNote(message) {
  const call = message.call || {};
  const missed = call.outcome !== 'answered';
  const text = message.content.replace(/^📞\s*/u, '');
  return el('li', { class: `system-msg call-note ${missed ? 'is-missed' : ''}`, dataset: { seq: message.seq, id: message.id, outcome: call.outcome || '' } },
    icon(call.media === 'video' ? 'video' : 'phone', 16), el('span', {}, text),
    el('time', { datetime: message.created_at, title: fullTime(message.created_at) }, clockTime(message.created_at)));
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
  return el('li', { class: `msg mine is-pending ${failed ? 'is-failed' : ''}`, tabindex: '-1', dataset: { clientId: entry.client_id } }, bubble);
}

export async function react(message, emoji) {
  try {
    const updated = await post(`/api/chat/messages/${message.id}/reactions/`, { emoji });
    store.patchMessage(message.conversation_id, message.id, { reactions: updated.reactions });
  } catch (error) {
    toastError(error, 'Reaction failed');
  }
}
