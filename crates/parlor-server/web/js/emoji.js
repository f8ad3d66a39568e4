// The emoji picker: a popover with a search box, one tab per Unicode group (plus the ones you
// used recently) and a grid of emoji; arrow keys move in the grid, Enter picks, Escape closes.
// The data (vendor/emoji-data.js) is served by parlor itself and loaded on first use.

import { el, fill } from './util.js';

const COLUMNS = 8;
const RECENT_KEY = 'parlor.emoji.recent';
let data = null;
let picker = null;

async function groups() {
  if (!data) data = (await import('../vendor/emoji-data.js')).default;
  return data;
}

function recent() {
  try { return JSON.parse(localStorage.getItem(RECENT_KEY) || '[]'); } catch { return []; }
}

function remember(emoji, name) {
  const list = [[emoji, name], ...recent().filter(([e]) => e !== emoji)].slice(0, 24);
  localStorage.setItem(RECENT_KEY, JSON.stringify(list));
}

/** Opens the picker next to `anchor`; `onPick(emoji)` gets the chosen one. */
export async function emojiPicker(anchor, onPick) {
  picker?.close();
  const all = await groups();
  const tabs = [['Recent', recent()], ...all].filter(([, list]) => list.length);
  let current = 0;
  const search = el('input', { type: 'search', class: 'search-input', placeholder: 'Search emoji', 'aria-label': 'Search emoji' });
  const grid = el('div', { class: 'emoji-grid', role: 'group', 'aria-label': 'Emoji' });
  const tablist = el('div', { class: 'emoji-tabs', role: 'tablist', 'aria-label': 'Emoji groups' });
  const node = el('div', { class: 'emoji-picker', role: 'dialog', 'aria-label': 'Choose an emoji' }, search, tablist, grid);

  const choose = (emoji, name) => {
    remember(emoji, name);
    close();
    onPick(emoji);
  };
  const show = (list) => {
    fill(grid, ...list.map(([emoji, name], i) => el('button', {
      class: 'emoji-cell', type: 'button', title: name, 'aria-label': name, tabindex: i === 0 ? '0' : '-1',
      onclick: () => choose(emoji, name),
    }, emoji)));
    if (!list.length) grid.append(el('p', { class: 'sub' }, 'No emoji found.'));
  };
  const renderTabs = () => {
    fill(tablist, ...tabs.map(([name, list], i) => el('button', {
      class: 'emoji-tab', type: 'button', role: 'tab', 'aria-selected': String(i === current), 'aria-label': name, title: name,
      onclick: () => { current = i; search.value = ''; renderTabs(); show(tabs[i][1]); },
    }, name === 'Recent' ? '🕘' : list[0][0])));
  };
  search.addEventListener('input', () => {
    const q = search.value.trim().toLowerCase();
    if (!q) { show(tabs[current][1]); return; }
    show(all.flatMap(([, list]) => list).filter(([, name]) => name.includes(q)).slice(0, 96));
  });
  grid.addEventListener('keydown', (e) => {
    const cells = [...grid.querySelectorAll('.emoji-cell')];
    const index = cells.indexOf(document.activeElement);
    const move = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS }[e.key];
    if (move === undefined || index < 0) return;
    e.preventDefault();
    const next = cells[Math.max(0, Math.min(cells.length - 1, index + move))];
    cells[index].tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });
  node.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); } });
  const outside = (e) => { if (!node.contains(e.target) && !anchor.contains(e.target)) close(); };
  const close = () => {
    node.remove();
    document.removeEventListener('mousedown', outside, true);
    if (picker?.node === node) picker = null;
    if (anchor.isConnected) anchor.focus?.();
  };
  picker = { node, close };
  renderTabs();
  show(tabs[current][1]);
  document.body.append(node);
  document.addEventListener('mousedown', outside, true);
  // Beside the anchor, inside the window on every side.
  const rect = anchor.getBoundingClientRect();
  const width = node.offsetWidth;
  const height = node.offsetHeight;
  node.style.left = `${Math.max(8, Math.min(window.innerWidth - width - 8, rect.left))}px`;
  node.style.top = `${rect.top - height - 8 >= 8 ? rect.top - height - 8 : Math.min(window.innerHeight - height - 8, rect.bottom + 8)}px`;
  search.focus();
}
