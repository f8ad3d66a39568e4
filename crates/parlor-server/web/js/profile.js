// Profiles: your own (name, picture, email address for mail while you are away, whether others
// see when you were last online, and your data to download: data-export.js) and other
// people's (message them, ask to connect or answer their request, block or unblock).

import { icon } from './icons.js';
import { get, post, patch, del, session } from './api.js';
import { store } from './store.js';
import { el, avatar, relativeTime, fill, add } from './util.js';
import { modal, confirmDialog } from './dialogs.js';
import { toast, toastError } from './toast.js';
import { dataExportSection } from './data-export.js';

/** Your own profile: name, picture (a link to an image), your email address (a standalone
 * account's own; a platform's accounts get theirs from the platform), hiding your last-seen time. */
export function myProfileDialog() {
  const me = store.me;
  const { dialog, body } = modal('Your profile', 'profile');
  const preview = el('div', { class: 'profile-face' }, avatar(me, { size: 88 }));
  const name = el('input', { id: 'profile-name', class: 'text-input', value: me.name, maxlength: 64, required: true, autocomplete: 'name' });
  const picture = el('input', { id: 'profile-avatar', class: 'text-input', type: 'url', value: me.avatar || '', placeholder: 'https://…', inputmode: 'url' });
  const hide = el('input', { id: 'profile-hide', type: 'checkbox', checked: Boolean(me.hide_last_seen) });
  // Accounts with a username are parlor's own; a platform's users get the address of its sign-in.
  const email = me.username
    ? el('input', { id: 'profile-email', class: 'text-input', type: 'email', value: me.email || '', placeholder: 'you@example.com', autocomplete: 'email', inputmode: 'email' })
    : null;
  const error = el('p', { class: 'form-error', role: 'alert' });
  const save = el('button', { class: 'primary', type: 'submit' }, 'Save');
  const refreshPreview = () => fill(preview, avatar({ ...me, name: name.value || me.name, avatar: picture.value.trim() || null }, { size: 88 }));
  name.addEventListener('input', refreshPreview);
  picture.addEventListener('change', refreshPreview);
  const form = el('form', { class: 'profile-form', onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = '';
    save.disabled = true;
    try {
      const changes = { name: name.value.trim(), avatar: picture.value.trim() || null, hide_last_seen: hide.checked };
      if (email) changes.email = email.value.trim() || null;
      const updated = await patch('/api/users/me/', changes);
      store.me = { ...store.me, ...updated };
      session.set({ access: session.access, user: store.me });
      store.emit('me');
      dialog.close();
      toast('Profile saved.');
    } catch (err) {
      error.textContent = err.message || 'Cannot save your profile';
      save.disabled = false;
    }
  } },
  preview,
  el('label', { class: 'field', for: 'profile-name' }, 'Name'), name,
  el('label', { class: 'field', for: 'profile-avatar' }, 'Picture (link to an image)'), picture,
  email ? el('label', { class: 'field', for: 'profile-email' }, 'Email, for messages you have not read') : null, email,
  el('label', { class: 'check' }, hide, 'Hide when I was last online'),
  me.username ? el('p', { class: 'sub' }, `Signed in as @${me.username}`) : null,
  error, el('div', { class: 'dialog-actions' }, save));
  body.append(form, dataExportSection());
  name.focus();
}

function presenceText(userId) {
  if (store.blocked.has(userId)) return 'Blocked';
  const presence = store.presence.get(userId);
  if (store.isOnline(userId)) return 'Online';
  return presence?.last_seen ? `Last seen ${relativeTime(presence.last_seen)}` : '';
}

/** Someone else's profile: message, connect (or answer their request), block or unblock. */
export async function userProfileDialog(user) {
  const { dialog, body } = modal(user.name, 'profile');
  const actions = el('div', { class: 'profile-actions' });
  const status = el('p', { class: 'sub profile-status' }, presenceText(user.id));
  add(body, el('div', { class: 'profile-face' }, avatar(user, { size: 88, online: store.blocked.has(user.id) ? null : store.isOnline(user.id) })),
    el('p', { class: 'profile-name ellipsis' }, user.name),
    user.username ? el('p', { class: 'sub ellipsis profile-username' }, `@${user.username}`) : null,
    status, actions);
  const run = (label, work) => async () => {
    try { await work(); } catch (error) { toastError(error, label); }
    render();
  };
  const render = () => {
    status.textContent = presenceText(user.id);
    const connection = store.connectionWith(user.id);
    const blocked = store.blocked.has(user.id);
    const button = (name, label, work, cls = 'secondary') => el('button', { class: `${cls} with-icon`, type: 'button', onclick: work }, icon(name, 18), label);
    fill(actions,
      !blocked ? button('send', 'Message', run('Cannot open the chat', async () => {
        const conversation = await post('/api/chat/conversations/', { user_id: user.id });
        store.upsertConversation(conversation);
        dialog.close();
        location.hash = `#/c/${conversation.id}`;
      }), 'primary') : null,
      connectionButton(connection, user, blocked, button, run),
      blocked
        ? button('ban', `Unblock ${user.name}`, run('Cannot unblock', async () => {
          await del(`/api/chat/users/${user.id}/block/`);
          store.setBlocked(user.id, false);
          toast(`${user.name} is unblocked.`);
        }))
        : button('ban', `Block ${user.name}`, run('Cannot block', async () => {
          if (!(await confirmDialog(`Block ${user.name}? Neither of you can message the other, and they no longer see when you are online.`, 'Block'))) return;
          await post(`/api/chat/users/${user.id}/block/`);
          store.setBlocked(user.id, true);
          toast(`${user.name} is blocked.`);
        }), 'secondary danger-text'));
  };
  render();
  // Connections may have changed since the app loaded; the buttons follow the server's answer.
  await store.loadConnections();
  if (dialog.open) render();
}

function connectionButton(connection, user, blocked, button, run) {
  if (blocked) return null;
  if (!connection) {
    return button('userPlus', 'Connect', run('Cannot send the request', async () => {
      await post('/api/connections/', { user_id: user.id });
      await store.loadConnections();
      toast(`Request sent to ${user.name}.`);
    }));
  }
  if (connection.status === 'accepted') {
    return button('check', 'Connected · Remove', run('Cannot remove the connection', async () => {
      if (!(await confirmDialog(`Remove your connection with ${user.name}?`, 'Remove'))) return;
      await del(`/api/connections/${connection.id}/`);
      await store.loadConnections();
    }));
  }
  if (connection.direction === 'outgoing') {
    return button('clock', 'Request sent · Cancel', run('Cannot cancel the request', async () => {
      await post(`/api/connections/${connection.id}/cancel/`);
      await store.loadConnections();
    }));
  }
  return el('span', { class: 'profile-request' },
    button('check', 'Accept request', run('Cannot accept', () => answerRequest(connection.id, true)), 'primary'),
    button('close', 'Decline', run('Cannot decline', () => answerRequest(connection.id, false))));
}

/** Accepts or declines a connection request; the notifications panel uses this too. */
export async function answerRequest(connectionId, accept) {
  const answer = await post(`/api/connections/${connectionId}/${accept ? 'accept' : 'decline'}/`);
  await store.loadConnections();
  if (accept && answer?.conversation_id) await store.fetchConversation(answer.conversation_id).catch(() => {});
  return answer;
}

/** A profile from a user id (a message's sender, a room member). */
export async function openProfile(userId) {
  if (userId === store.me.id) return myProfileDialog();
  try {
    const user = await get(`/api/chat/users/${userId}/`);
    if (user.is_online !== undefined) store.presence.set(user.id, { user_id: user.id, is_online: user.is_online, last_seen: user.last_seen });
    return userProfileDialog(user);
  } catch (error) {
    toastError(error, 'Cannot open the profile');
  }
}
