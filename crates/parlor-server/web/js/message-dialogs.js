// Dialogs about one message: forwarding it to conversations you pick, and who has seen it in a
// room ("seen by", from the receipts the server keeps).

import { get, post } from './api.js';
import { store } from './store.js';
import { el, clear, avatar, fill } from './util.js';
import { modal, userRow } from './dialogs.js';
import { toast, toastError } from './toast.js';
import { describe } from './message.js';

/** Forward to one or more of my conversations (those I can still write in). */
export function forwardDialog(message) {
  const { dialog, body } = modal('Forward message', 'forward');
  const picked = new Set();
  const filter = el('input', { type: 'search', class: 'search-input', placeholder: 'Search conversations', 'aria-label': 'Search conversations' });
  const list = el('ul', { class: 'user-list pick-list', 'aria-label': 'Conversations' });
  const send = el('button', { class: 'primary', type: 'button', disabled: true }, 'Forward');
  const render = () => {
    const q = filter.value.trim().toLowerCase();
    const targets = store.sortedConversations().filter((c) => c.is_member !== false && !c.archived && (!q || store.title(c).toLowerCase().includes(q)));
    clear(list);
    if (!targets.length) list.append(el('li', { class: 'empty-list' }, 'No conversation matches.'));
    for (const c of targets) {
      const box = el('input', { type: 'checkbox', checked: picked.has(c.id), onchange: () => {
        if (box.checked) picked.add(c.id); else picked.delete(c.id);
        send.disabled = picked.size === 0;
        send.textContent = picked.size > 1 ? `Forward to ${picked.size}` : 'Forward';
      } });
      const peer = store.peer(c);
      list.append(el('li', {}, el('label', { class: 'user-row' }, box,
        avatar(peer || { id: c.id, name: store.title(c), avatar: c.avatar }, { size: 32 }),
        el('span', { class: 'user-names' }, el('span', { class: 'ellipsis' }, store.title(c))))));
    }
  };
  filter.addEventListener('input', render);
  send.addEventListener('click', async () => {
    send.disabled = true;
    let sent = 0;
    for (const id of picked) {
      try {
        store.addMessage(await post(`/api/chat/messages/${message.id}/forward/`, { conversation_id: id }));
        sent += 1;
      } catch (error) {
        toastError(error, `Not forwarded to ${store.title(store.conversations.get(id))}`);
      }
    }
    dialog.close();
    if (sent) toast(sent === 1 ? 'Forwarded.' : `Forwarded to ${sent} conversations.`);
  });
  body.append(el('p', { class: 'sub ellipsis' }, describe(message)), filter, list, el('div', { class: 'dialog-actions' }, send));
  render();
  filter.focus();
}

/** Who read a message of mine in a room, and who has it but has not read it yet. */
export async function seenByDialog(message) {
  const { body } = modal('Seen by', 'seen-by');
  body.append(el('p', { class: 'sub' }, 'Loading…'));
  try {
    const receipts = await get(`/api/chat/messages/${message.id}/receipts/`);
    const readIds = new Set(receipts.read_by.map((u) => u.id));
    const delivered = receipts.delivered_to.filter((u) => !readIds.has(u.id));
    fill(body, el('p', { class: 'sub ellipsis' }, describe(message)),
      el('h3', { class: 'section-title' }, `Read by ${receipts.read_count} of ${receipts.recipient_count}`),
      el('ul', { class: 'user-list', 'aria-label': 'Read by' }, receipts.read_by.length ? receipts.read_by.map((u) => userRow(u, null)) : el('li', { class: 'empty-list' }, 'Nobody yet.')),
      el('h3', { class: 'section-title' }, 'Delivered, not read yet'),
      el('ul', { class: 'user-list', 'aria-label': 'Delivered to' }, delivered.length ? delivered.map((u) => userRow(u, null)) : el('li', { class: 'empty-list' }, 'Nobody.')));
  } catch (error) {
    fill(body, el('p', { class: 'form-error' }, 'Cannot load who has seen it.'));
    toastError(error);
  }
}
