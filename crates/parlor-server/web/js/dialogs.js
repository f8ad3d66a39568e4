// Modal dialogs (native <dialog>: focus stays inside, Escape closes) and the pieces other
// dialogs share: new chat or room, sending a file with a caption and progress, the image viewer,
// and confirm / prompt. Conversation details are in details.js, profiles in profile.js.

import { icon } from './icons.js';
import { get, post, upload, blobUrl } from './api.js';
import { store } from './store.js';
import { el, clear, avatar, fileSize, newId, debounce, fill } from './util.js';
import { toast, toastError } from './toast.js';

export function modal(title, className = '') {
  const body = el('div', { class: 'dialog-body' });
  const dialog = el('dialog', { class: `dialog ${className}`, 'aria-label': title },
    el('header', { class: 'dialog-head' }, el('h2', { class: 'ellipsis' }, title),
      el('button', { class: 'icon-btn', type: 'button', 'aria-label': 'Close', onclick: () => dialog.close() }, icon('close'))),
    body);
  dialog.addEventListener('close', () => dialog.remove());
  dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, body };
}

/** A person in a list: a button when picking them does something, plain text otherwise. */
export function userRow(user, onPick, label, extra = {}) {
  const content = [
    avatar(user, { size: 36, online: user.is_online ?? null }),
    el('span', { class: 'user-names' }, el('span', { class: 'ellipsis' }, user.name), user.username ? el('span', { class: 'sub ellipsis' }, `@${user.username}`) : null),
    label ? el('span', { class: 'sub user-label' }, label) : null,
  ];
  const row = onPick
    ? el('button', { class: 'user-row', type: 'button', onclick: () => onPick(user), ...extra }, content)
    : el('div', { class: 'user-row' }, content);
  return el('li', {}, row);
}

/** Find people: start a DM with one, or pick several and a title for a room. */
export function newChatDialog() {
  const { dialog, body } = modal('New chat', 'new-chat');
  const picked = new Map();
  const query = el('input', { type: 'search', class: 'search-input', placeholder: 'Search people by name or username', 'aria-label': 'Search people' });
  const results = el('ul', { class: 'user-list', 'aria-label': 'People' });
  const chips = el('div', { class: 'chips' });
  const title = el('input', { class: 'text-input', placeholder: 'Room name', 'aria-label': 'Room name', maxlength: 100 });
  const roomMode = el('input', { type: 'checkbox', id: 'room-mode' });
  const create = el('button', { class: 'primary', type: 'button', hidden: true }, 'Create room');
  const roomFields = el('div', { class: 'room-fields', hidden: true }, title, chips, create);

  const openDm = async (user) => {
    try {
      const conversation = await post('/api/chat/conversations/', { user_id: user.id });
      store.upsertConversation(conversation);
      dialog.close();
      location.hash = `#/c/${conversation.id}`;
    } catch (error) {
      toastError(error, `Cannot message ${user.name}`);
    }
  };
  const renderChips = () => {
    fill(chips, ...[...picked.values()].map((u) => el('button', { class: 'chip', type: 'button', 'aria-label': `Remove ${u.name}`, onclick: () => { picked.delete(u.id); renderChips(); } }, `${u.name} ×`)));
    create.hidden = picked.size === 0;
  };
  const search = debounce(async () => {
    const q = query.value.trim();
    // The directory answers queries of two characters or more (protocol §4.1).
    if ([...q].length < 2) {
      fill(results, el('li', { class: 'empty-list' }, 'Type at least 2 characters.'));
      return;
    }
    try {
      const page = await get(`/api/chat/users/?q=${encodeURIComponent(q)}&limit=20`);
      clear(results);
      const people = page.results.filter((u) => u.id !== store.me.id);
      if (!people.length) results.append(el('li', { class: 'empty-list' }, 'Nobody found.'));
      for (const user of people) {
        results.append(userRow(user, (u) => {
          if (!roomMode.checked) openDm(u);
          else { picked.set(u.id, u); renderChips(); }
        }));
      }
    } catch (error) {
      toastError(error);
    }
  }, 200);
  query.addEventListener('input', search);
  roomMode.addEventListener('change', () => { roomFields.hidden = !roomMode.checked; });
  create.addEventListener('click', async () => {
    if (!title.value.trim()) { title.focus(); toast('Give the room a name.', { kind: 'error' }); return; }
    try {
      const room = await post('/api/chat/rooms/', { title: title.value.trim(), members: [...picked.keys()] });
      store.upsertConversation(room);
      dialog.close();
      location.hash = `#/c/${room.id}`;
    } catch (error) {
      toastError(error, 'Cannot create the room');
    }
  });
  body.append(query, el('label', { class: 'check' }, roomMode, ' Create a room with several people'), roomFields, results);
  search();
  query.focus();
}

/** Preview a file, add a caption, upload with a progress bar. Resolves true once sent. */
export function attachDialog(conversationId, file, caption = '') {
  return new Promise((resolve) => {
    const { dialog, body } = modal('Send a file', 'attach');
    const isImage = file.type.startsWith('image/');
    const preview = isImage
      ? el('img', { class: 'attach-preview', alt: file.name, src: URL.createObjectURL(file) })
      : el('div', { class: 'file-card' }, el('span', { class: 'file-icon' }, icon('file', 26)),
        el('span', { class: 'file-meta' }, el('span', { class: 'file-name' }, file.name), el('span', { class: 'file-size' }, fileSize(file.size))));
    const text = el('input', { class: 'text-input', placeholder: 'Add a caption (optional)', 'aria-label': 'Caption', value: caption, maxlength: store.limits.max_message_chars });
    const progress = el('progress', { class: 'upload-progress', max: 1, value: 0, hidden: true, 'aria-label': 'Upload progress' });
    const send = el('button', { class: 'primary', type: 'submit' }, 'Send');
    let done = false;
    const clientId = newId();
    const form = el('form', { class: 'attach-form', onsubmit: async (e) => {
      e.preventDefault();
      send.disabled = true;
      progress.hidden = false;
      try {
        const message = await upload(conversationId, file, { caption: text.value.trim(), clientId, onProgress: (p) => { progress.value = p; } });
        store.addMessage(message);
        done = true;
        dialog.close();
        resolve(true);
      } catch (error) {
        send.disabled = false;
        progress.hidden = true;
        toastError(error, 'Upload failed');
      }
    } }, preview, el('p', { class: 'sub' }, `${file.name} · ${fileSize(file.size)}`), text, progress, el('div', { class: 'dialog-actions' }, send));
    body.append(form);
    dialog.addEventListener('close', () => { if (!done) resolve(false); });
    text.focus();
  });
}

/** The full image, over everything; Escape or a click closes it. */
export function lightbox(attachment) {
  const { dialog, body } = modal(attachment.name, 'lightbox');
  const img = el('img', { class: 'lightbox-img', alt: attachment.name });
  blobUrl(attachment.url).then((url) => { img.src = url; }, (error) => toastError(error));
  body.append(img);
  img.addEventListener('click', () => dialog.close());
}

export function confirmDialog(text, confirmLabel = 'OK') {
  return new Promise((resolve) => {
    const { dialog, body } = modal('Are you sure?', 'confirm');
    let answer = false;
    const yes = el('button', { class: 'primary danger', type: 'button', onclick: () => { answer = true; dialog.close(); } }, confirmLabel);
    body.append(el('p', {}, text), el('div', { class: 'dialog-actions' },
      el('button', { class: 'secondary', type: 'button', onclick: () => dialog.close() }, 'Cancel'), yes));
    dialog.addEventListener('close', () => resolve(answer));
    yes.focus();
  });
}

export function promptDialog(title, label) {
  return new Promise((resolve) => {
    const { dialog, body } = modal(title, 'confirm');
    let answer = null;
    const input = el('input', { class: 'text-input', 'aria-label': label, placeholder: label, maxlength: 500 });
    const form = el('form', { onsubmit: (e) => { e.preventDefault(); answer = input.value.trim(); dialog.close(); } },
      input, el('div', { class: 'dialog-actions' }, el('button', { class: 'primary', type: 'submit' }, 'Send')));
    body.append(form);
    dialog.addEventListener('close', () => resolve(answer));
    input.focus();
  });
}

