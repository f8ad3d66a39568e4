// "Your data" in your profile: ask for an export of everything parlor holds that you may read
// (docs/privacy.md §5), follow it while it is prepared, and save the zip once it is ready. The
// download needs your token, so it is fetched here and handed to the browser as a file.

import { get, post, freshToken } from './api.js';
import { el, fileSize, fullTime } from './util.js';
import { toastError } from './toast.js';

/** How often a pending export is looked at while the dialog is open. */
const POLL_MS = 2000;

const FAILED = {
  too_large: 'Your data is larger than this server allows in one export.',
  timeout: 'Preparing your data took too long.',
};

export function dataExportSection() {
  const status = el('p', { class: 'sub data-export-status', role: 'status' });
  const ask = el('button', { class: 'secondary', type: 'button' }, 'Download my data');
  const save = el('button', { class: 'primary', type: 'button', hidden: true }, 'Save the archive');
  const section = el('section', { class: 'data-export', 'aria-labelledby': 'data-export-title' },
    el('h3', { id: 'data-export-title' }, 'Your data'),
    el('p', { class: 'sub' }, 'A zip of your profile, your conversations, the messages you can read and the files you sent.'),
    status,
    el('div', { class: 'dialog-actions' }, ask, save));
  let current = null;
  let timer = null;

  const show = (exp) => {
    current = exp;
    clearTimeout(timer);
    save.hidden = exp?.status !== 'ready';
    ask.disabled = exp?.status === 'pending' || exp?.status === 'running';
    switch (exp?.status) {
      case 'pending':
      case 'running':
        status.textContent = 'Preparing your data. You will be notified when it is ready.';
        timer = setTimeout(refresh, POLL_MS);
        break;
      case 'ready':
        status.textContent = `Ready: ${fileSize(exp.size_bytes)}, until ${fullTime(exp.expires_at)}.`;
        break;
      case 'failed':
        status.textContent = FAILED[exp.error] || 'Your data could not be exported. You can try again.';
        break;
      default:
        status.textContent = '';
    }
  };

  // While the dialog shows the section; once it is closed, polling stops.
  const refresh = async () => {
    if (!section.isConnected || !current) return;
    try {
      show(await get(`/api/users/me/exports/${current.id}/`));
    } catch {
      timer = setTimeout(refresh, POLL_MS * 2);
    }
  };

  ask.addEventListener('click', async () => {
    ask.disabled = true;
    try {
      show(await post('/api/users/me/export/'));
    } catch (error) {
      status.textContent = error.message || 'Cannot ask for an export now.';
      ask.disabled = false;
    }
  });

  save.addEventListener('click', async () => {
    save.disabled = true;
    try {
      const response = await fetch(current.download_url, { headers: { authorization: `Bearer ${await freshToken()}` } });
      if (!response.ok) throw new Error(response.status === 404 ? 'This export is no longer available.' : 'Cannot download it now.');
      const url = URL.createObjectURL(await response.blob());
      const link = el('a', { href: url, download: `parlor-export-${current.id}.zip`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (error) {
      toastError(error, 'Cannot download your data');
    }
    save.disabled = false;
  });

  get('/api/users/me/exports/').then((page) => show(page.results[0] ?? null)).catch(() => {});
  return section;
}
