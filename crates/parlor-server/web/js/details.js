// Conversation details (the ⓘ in a chat's header): for a direct conversation the other person's
// profile; for a room its name and picture, members (each row opens what you may do with them:
// their profile, their role, removing them, handing over ownership), adding people; and for both
// mute, archive, leave (the last owner names a new owner first) and block; disappearing messages
// (a room's owners or either side of a direct conversation choose) and a legal hold, when one is set.

import { icon } from './icons.js';
import { api, get, post, patch, del } from './api.js';
import { store } from './store.js';
import { el, clear, avatar, relativeTime, debounce, fill } from './util.js';
import { modal, userRow, confirmDialog } from './dialogs.js';
import { toast, toastError } from './toast.js';
import { openProfile } from './profile.js';

const ROLE_RANK = { owner: 3, admin: 2, member: 1 };

function memberStatus(m) {
  if (m.id === store.me.id) return 'you';
  if (store.blocked.has(m.id)) return 'blocked';
  const presence = store.presence.get(m.id);
  return store.isOnline(m.id) ? 'online' : presence?.last_seen ? `seen ${relativeTime(presence.last_seen)}` : '';
}

export function conversationDetails(conversation) {
  const c = conversation;
  const { dialog, body } = modal(store.title(c), 'details');
  const render = () => {
    const fresh = store.conversations.get(c.id) || c;
    clear(body);
    if (fresh.kind === 'room') roomSection(body, fresh, dialog, render);
    else directSection(body, fresh);
    body.append(retentionSection(fresh), settings(fresh, dialog));
  };
  const follow = (e) => { if (e.detail.id === c.id && (e.detail.what === 'conversation') && dialog.open) render(); };
  store.addEventListener('change', follow);
  dialog.addEventListener('close', () => store.removeEventListener('change', follow));
  render();
}

function directSection(body, c) {
  const peer = store.peer(c);
  if (!peer) return;
  body.append(el('h3', { class: 'section-title' }, 'Participants'),
    el('ul', { class: 'user-list' }, c.members.map((m) => userRow({ ...m, is_online: m.id === store.me.id || store.blocked.has(m.id) ? null : store.isOnline(m.id) },
      m.id === store.me.id ? null : () => openProfile(m.id), memberStatus(m)))));
}

function roomSection(body, c, dialog, render) {
  const mine = ROLE_RANK[c.role] || 0;
  const active = c.is_member !== false;
  body.append(el('div', { class: 'room-face' }, avatar({ id: c.id, name: store.title(c), avatar: c.avatar }, { size: 72 }),
    el('div', { class: 'room-face-text' }, el('p', { class: 'profile-name ellipsis' }, store.title(c)),
      el('p', { class: 'sub' }, active ? `${c.members.length} members` : 'You are no longer a member'))));
  if (active && mine >= ROLE_RANK.admin) body.append(editRoomForm(c));
  if (!active) return;
  const heading = el('div', { class: 'section-row' }, el('h3', { class: 'section-title' }, `${c.members.length} members`),
    mine >= ROLE_RANK.admin ? el('button', { class: 'link with-icon', type: 'button', onclick: () => addPeopleDialog(c) }, icon('userPlus', 18), 'Add people') : null);
  const sorted = [...c.members].sort((a, b) => (ROLE_RANK[b.role] - ROLE_RANK[a.role]) || a.name.localeCompare(b.name));
  body.append(heading, el('ul', { class: 'user-list members' }, sorted.map((m) => {
    const label = [m.role !== 'member' ? m.role : '', memberStatus(m)].filter(Boolean).join(' · ');
    const user = { ...m, is_online: m.id === store.me.id || store.blocked.has(m.id) ? null : store.isOnline(m.id) };
    return userRow(user, m.id === store.me.id ? null : () => memberActions(c, m, render), label, { 'aria-haspopup': 'dialog' });
  })));
}

function editRoomForm(c) {
  const title = el('input', { id: 'room-title', class: 'text-input', value: c.title || '', maxlength: 100, required: true });
  const picture = el('input', { id: 'room-avatar', class: 'text-input', type: 'url', value: c.avatar || '', placeholder: 'https://…' });
  const save = el('button', { class: 'secondary', type: 'submit' }, 'Save');
  return el('form', { class: 'room-edit', onsubmit: async (e) => {
    e.preventDefault();
    const changes = {};
    if (title.value.trim() !== (c.title || '')) changes.title = title.value.trim();
    if (picture.value.trim() !== (c.avatar || '')) changes.avatar = picture.value.trim() || null;
    if (!Object.keys(changes).length) return;
    try {
      store.upsertConversation(await patch(`/api/chat/conversations/${c.id}/`, changes));
      store.emit('conversation', { id: c.id });
      toast('Room updated.');
    } catch (error) {
      toastError(error, 'Cannot update the room');
    }
  } }, el('label', { class: 'field', for: 'room-title' }, 'Room name'), title,
  el('label', { class: 'field', for: 'room-avatar' }, 'Picture (link to an image)'), picture, save);
}

/** What I may do with one member, by the room's rules (protocol §10.1). */
function memberActions(c, member, rerender) {
  const mine = ROLE_RANK[c.role] || 0;
  const { dialog, body } = modal(member.name, 'member');
  const act = (label, work) => el('button', { class: 'secondary', type: 'button', onclick: async () => {
    try {
      await work();
      dialog.close();
      await store.fetchConversation(c.id).catch(() => {});
      rerender();
    } catch (error) {
      if (!(error instanceof Cancelled)) toastError(error, label);
    }
  } }, label);
  const setRole = (role) => patch(`/api/chat/conversations/${c.id}/members/${member.id}/`, { role });
  const canRemove = mine === ROLE_RANK.owner || (mine === ROLE_RANK.admin && member.role === 'member');
  body.append(el('p', { class: 'sub' }, `Role: ${member.role}`), el('div', { class: 'dialog-actions stacked' },
    el('button', { class: 'secondary', type: 'button', onclick: () => { dialog.close(); openProfile(member.id); } }, 'View profile'),
    mine === ROLE_RANK.owner && member.role !== 'owner' ? act('Make owner', async () => {
      if (!(await confirmDialog(`Make ${member.name} an owner? Owners can do everything, including removing you.`, 'Make owner'))) throw new Cancelled();
      await setRole('owner');
    }) : null,
    mine === ROLE_RANK.owner && member.role !== 'admin' ? act('Make admin', () => setRole('admin')) : null,
    mine === ROLE_RANK.owner && member.role !== 'member' ? act('Make member', () => setRole('member')) : null,
    canRemove ? act('Remove from room', async () => {
      if (!(await confirmDialog(`Remove ${member.name} from ${store.title(c)}?`, 'Remove'))) throw new Cancelled();
      await del(`/api/chat/conversations/${c.id}/members/${member.id}/`);
    }) : null));
}

class Cancelled extends Error {
  constructor() { super('Cancelled'); }
}

function addPeopleDialog(c) {
  const { dialog, body } = modal(`Add people to ${store.title(c)}`, 'add-people');
  const picked = new Map();
  const query = el('input', { type: 'search', class: 'search-input', placeholder: 'Search people', 'aria-label': 'Search people' });
  const results = el('ul', { class: 'user-list', 'aria-label': 'People' });
  const chips = el('div', { class: 'chips' });
  const add = el('button', { class: 'primary', type: 'button', disabled: true }, 'Add');
  const present = new Set(c.members.map((m) => m.id));
  const renderChips = () => {
    fill(chips, ...[...picked.values()].map((u) => el('button', { class: 'chip', type: 'button', 'aria-label': `Remove ${u.name}`, onclick: () => { picked.delete(u.id); renderChips(); } }, `${u.name} ×`)));
    add.disabled = picked.size === 0;
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
      const people = page.results.filter((u) => !present.has(u.id));
      fill(results, ...(people.length ? people.map((u) => userRow(u, () => { picked.set(u.id, u); renderChips(); })) : [el('li', { class: 'empty-list' }, 'Nobody found.')]));
    } catch (error) {
      toastError(error);
    }
  }, 200);
  query.addEventListener('input', search);
  add.addEventListener('click', async () => {
    try {
      store.upsertConversation(await post(`/api/chat/conversations/${c.id}/members/`, { user_ids: [...picked.keys()] }));
      store.emit('conversation', { id: c.id });
      dialog.close();
    } catch (error) {
      toastError(error, 'Cannot add them');
    }
  });
  body.append(query, chips, results, el('div', { class: 'dialog-actions' }, add));
  search();
  query.focus();
}

/** How long messages stay, as people choose it; any other value set through the API shows as is. */
const RETENTION_CHOICES = [[null, 'Off'], [3600, '1 hour'], [86400, '1 day'], [604800, '1 week'], [2592000, '30 days']];

function describeRetention(secs) {
  const known = RETENTION_CHOICES.find(([value]) => value === secs);
  if (known) return known[1];
  const [n, unit] = secs % 86400 === 0 ? [secs / 86400, 'day'] : secs % 3600 === 0 ? [secs / 3600, 'hour']
    : secs % 60 === 0 ? [secs / 60, 'minute'] : [secs, 'second'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** Disappearing messages: a choice for a room's owners and either side of a direct conversation,
 *  a line for everyone else; and the legal hold, which keeps everything whatever is chosen. */
function retentionSection(c) {
  const current = c.retention_secs ?? null;
  const mayChange = c.is_member !== false && (c.kind === 'direct' || c.role === 'owner');
  const section = el('div', { class: 'retention' }, el('h3', { class: 'section-title' }, 'Disappearing messages'));
  if (mayChange) {
    const choices = RETENTION_CHOICES.some(([value]) => value === current) ? RETENTION_CHOICES
      : [...RETENTION_CHOICES, [current, describeRetention(current)]];
    const select = el('select', { id: `retention-${c.id}`, class: 'text-input', onchange: async () => {
      const value = select.value === '' ? null : Number(select.value);
      try {
        await api('PUT', `/api/chat/conversations/${c.id}/retention/`, { retention_secs: value });
        store.upsertConversation({ ...c, retention_secs: value });
        store.emit('conversation', { id: c.id });
      } catch (error) {
        select.value = current === null ? '' : String(current);
        toastError(error);
      }
    } }, choices.map(([value, label]) => el('option', { value: value === null ? '' : String(value), selected: value === current }, label)));
    section.append(el('label', { class: 'field retention-field', for: `retention-${c.id}` },
      'Messages disappear after', select));
  } else {
    section.append(el('p', { class: 'sub retention-line' },
      current === null ? 'Off: messages stay as long as the server keeps them.' : `Messages disappear after ${describeRetention(current)}.`));
  }
  if (c.legal_hold) {
    section.append(el('p', { class: 'sub retention-line' }, icon('alert', 16), 'Under legal hold: nothing here is deleted for now.'));
  }
  return section;
}

/** Mute, archive, leave, block: what any member can do with the conversation. */
function settings(c, dialog) {
  const peer = store.peer(c);
  const active = c.is_member !== false;
  const action = (name, label, run, cls = 'secondary') => el('button', { class: `${cls} with-icon`, type: 'button', onclick: async () => {
    try { await run(); } catch (error) { if (!(error instanceof Cancelled)) toastError(error); }
  } }, icon(name, 18), label);
  const owners = c.members.filter((m) => m.role === 'owner');
  const lastOwner = c.kind === 'room' && c.role === 'owner' && owners.length === 1 && c.members.length > 1;
  return el('div', { class: 'dialog-actions' },
    action('bellOff', c.muted ? 'Unmute' : 'Mute', async () => {
      await post(`/api/chat/conversations/${c.id}/${c.muted ? 'unmute' : 'mute'}/`);
      c.muted = !c.muted;
      store.emit('conversations');
      store.emit('conversation', { id: c.id });
    }),
    active && (c.kind === 'direct' || ROLE_RANK[c.role] >= ROLE_RANK.admin) ? action('archive', c.archived ? 'Unarchive' : 'Archive', async () => {
      const updated = await post(`/api/chat/conversations/${c.id}/${c.archived ? 'unarchive' : 'archive'}/`);
      store.upsertConversation({ ...c, ...updated });
      store.emit('conversation', { id: c.id });
    }) : null,
    c.kind === 'room' && active ? action('logoutRoom', 'Leave room', async () => {
      if (lastOwner) {
        const heir = await chooseNewOwner(c);
        if (!heir) return;
        await patch(`/api/chat/conversations/${c.id}/members/${heir}/`, { role: 'owner' });
      } else if (!(await confirmDialog(`Leave ${store.title(c)}?`, 'Leave'))) {
        return;
      }
      await post(`/api/chat/conversations/${c.id}/leave/`);
      dialog.close();
      await store.fetchConversation(c.id).catch(() => {});
    }, 'secondary danger-text') : null,
    peer ? action('ban', store.blocked.has(peer.id) ? `Unblock ${peer.name}` : `Block ${peer.name}`, async () => {
      if (store.blocked.has(peer.id)) {
        await del(`/api/chat/users/${peer.id}/block/`);
        store.setBlocked(peer.id, false);
        toast(`${peer.name} is unblocked.`);
      } else {
        if (!(await confirmDialog(`Block ${peer.name}? Neither of you can message the other.`, 'Block'))) return;
        await post(`/api/chat/users/${peer.id}/block/`);
        store.setBlocked(peer.id, true);
        toast(`${peer.name} is blocked.`);
      }
      store.emit('conversation', { id: c.id });
    }, 'secondary danger-text') : null);
}

/** The only owner leaving hands the room over first: pick who. Resolves a user id or null. */
function chooseNewOwner(c) {
  return new Promise((resolve) => {
    const { dialog, body } = modal('Choose a new owner', 'heir');
    let chosen = null;
    const others = c.members.filter((m) => m.id !== store.me.id).sort((a, b) => (ROLE_RANK[b.role] - ROLE_RANK[a.role]) || a.name.localeCompare(b.name));
    body.append(el('p', {}, `You are the only owner of ${store.title(c)}. Choose who owns it after you leave.`),
      el('ul', { class: 'user-list' }, others.map((m) => userRow(m, () => { chosen = m.id; dialog.close(); }, m.role !== 'member' ? m.role : ''))));
    dialog.addEventListener('close', () => resolve(chosen));
  });
}
