// Account: who you are and changing your own password.

import { api } from '../api.js';
import { h, mount, field, toast, describeError, timeEl } from '../ui.js';
import { session } from '../session.js';

export async function render(main) {
  document.title = 'Account · img-cloud';
  const u = session.user;
  const current = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const msg = h('div', { class: 'form-error', role: 'alert' });
  const btn = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password');
  const form = h('form', { 'aria-labelledby': 'pw-h' },
    field('Current password', current).wrap,
    field('New password', next).wrap,
    field('New password again', again).wrap,
    msg, h('div', { class: 'actions' }, btn));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.textContent = '';
    if (!current.value || !next.value) { msg.textContent = 'Fill in your current and your new password.'; return; }
    if (next.value !== again.value) { msg.textContent = 'The two new passwords differ.'; again.focus(); return; }
    btn.disabled = true;
    try {
      await api('POST', '/v1/auth/change-password', { body: { current_password: current.value, new_password: next.value }});
      current.value = ''; next.value = ''; again.value = '';
      toast('Password changed. Your other sessions have been signed out.');
      msg.textContent = '';
    } catch (err) {
      msg.textContent = err.status === 403 ? 'Your current password is wrong.' : describeError(err, 'Changing the password');
    } finally {
      btn.disabled = false;
    }
  });
  mount(main,
    h('h1', {}, 'Account'),
    h('section', { class: 'card', 'aria-labelledby': 'me-h' }, h('h2', { id: 'me-h' }, 'You'),
      h('dl', { class: 'meta' }, h('dt', {}, 'Email'), h('dd', {}, u.email), h('dt', {}, 'Role'), h('dd', {}, u.role), h('dt', {}, 'Member since'), h('dd', {}, timeEl(u.created_at)))),
    h('section', { class: 'card', 'aria-labelledby': 'pw-h' }, h('h2', { id: 'pw-h' }, 'Change password'), form));
}
