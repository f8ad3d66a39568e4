// Sign in and registration (standalone mode). Host-app mode never shows this: the embedding
// page hands over its token instead (main.js).

import { authenticate } from './api.js';
import { el, fill } from './util.js';

export function showLogin(root, onSignedIn) {
  let mode = 'token';
  const error = el('p', { class: 'form-error', role: 'alert', id: 'login-error' });
  const username = el('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 32, autocapitalize: 'none', spellcheck: 'false' });
  const password = el('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, minlength: 8, maxlength: 128 });
  const name = el('input', { id: 'login-name', name: 'name', autocomplete: 'name', maxlength: 64 });
  const nameRow = el('label', { class: 'field', hidden: true }, 'Display name (optional)', name);
  const submit = el('button', { class: 'primary', type: 'submit' }, 'Sign in');
  const switcher = el('button', { class: 'link', type: 'button', onclick: () => setMode(mode === 'token' ? 'register' : 'token') });
  const heading = el('h1', {}, 'Sign in to parlor');

  function setMode(next) {
    mode = next;
    const registering = mode === 'register';
    heading.textContent = registering ? 'Create your parlor account' : 'Sign in to parlor';
    submit.textContent = registering ? 'Create account' : 'Sign in';
    switcher.textContent = registering ? 'I already have an account' : 'Create an account';
    nameRow.hidden = !registering;
    password.autocomplete = registering ? 'new-password' : 'current-password';
    error.textContent = '';
  }

  const form = el('form', {
    class: 'login-card',
    onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = '';
      submit.disabled = true;
      try {
        const fields = { username: username.value.trim(), password: password.value };
        if (mode === 'register' && name.value.trim()) fields.name = name.value.trim();
        const result = await authenticate(mode, fields);
        onSignedIn(result.user);
      } catch (e) {
        error.textContent = e instanceof TypeError ? 'Cannot reach the server' : e.message;
        submit.disabled = false;
      }
    },
  },
  el('div', { class: 'brand' }, el('img', { src: '/app/icon.svg', alt: '', width: 40, height: 40 }), el('span', {}, 'parlor')),
  heading,
  el('label', { class: 'field' }, 'Username', username),
  el('label', { class: 'field' }, 'Password', password),
  nameRow, error, submit, switcher);
  setMode('token');
  fill(root, el('main', { class: 'login' }, form));
  username.focus();
}
