// Users (admins only): list, create, change role, reset password and delete, with the server's refusals shown as they are.

import { api } from '../api.js';
import { h, mount, field, openDialog, confirmDialog, toast, timeEl, errorBox, describeError } from '../ui.js';
import { isAdmin, session } from '../session.js';

export async function render(main) {
  document.title = 'Users · img-cloud';
  if (!isAdmin()) {
    // The API refuses non-admins anyway; this page just says so instead of showing a broken table.
    mount(main, h('h1', {}, 'Users'), errorBox('Only administrators can manage users.'));
    return;
  }
  const listWrap = h('div', { class: 'table-wrap' });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'off', required: true });
  const password = h('input', { type: 'password', name: 'new-user-password', autocomplete: 'new-password', required: true });
  const role = h('select', { name: 'role' }, h('option', { value: 'user' }, 'User'), h('option', { value: 'admin' }, 'Admin'));
  const createErr = h('div', { class: 'form-error', role: 'alert' });
  const createBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create user');
  const form = h('form', { class: 'grid-form', 'aria-labelledby': 'create-user-h' },
    field('Email', email).wrap, field('Password', password).wrap, field('Role', role).wrap,
    h('div', { class: 'actions' }, createBtn), createErr);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    createErr.textContent = '';
    if (!email.value.trim() || !password.value) { createErr.textContent = 'Enter an email and a password.'; return; }
    createBtn.disabled = true;
    try {
      const u = await api('POST', '/v1/users', { body: { email: email.value.trim(), password: password.value, role: role.value } });
      email.value = '';
      password.value = '';
      role.value = 'user';
      toast(`Created ${u.email}.`);
      await load();
    } catch (err) {
      createErr.textContent = describeError(err, 'Creating the user');
    } finally {
      createBtn.disabled = false;
    }
  });

  async function load() {
    try {
      const { users } = await api('GET', '/v1/users');
      mount(listWrap, table(users));
    } catch (e) {
      mount(listWrap, errorBox(describeError(e, 'Loading users')));
    }
  }

  function table(users) {
    return h('table', { class: 'data', id: 'users-table' },
      h('caption', { class: 'visually-hidden' }, 'Users'),
      h('thead', {}, h('tr', {}, ['Email', 'Role', 'Created', h('span', { class: 'visually-hidden' }, 'Actions')].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, users.map((u) => {
        const sel = h('select', { 'aria-label': `Role of ${u.email}` }, h('option', { value: 'user', selected: u.role === 'user' }, 'User'), h('option', { value: 'admin', selected: u.role === 'admin' }, 'Admin'));
        sel.addEventListener('change', () => changeRole(u, sel));
        return h('tr', { dataset: { email: u.email } },
          h('td', { 'data-label': 'Email' }, u.email, u.id === session.user.id ? h('span', { class: 'muted' }, ' (you)') : null),
          h('td', { 'data-label': 'Role' }, sel),
          h('td', { 'data-label': 'Created' }, timeEl(u.created_at)),
          h('td', { class: 'row-actions' },
            h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Reset password of ${u.email}`, onclick: () => resetPassword(u) }, 'Reset password'),
            h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Delete ${u.email}`, onclick: () => remove(u) }, 'Delete')));
      })));
  }

  async function changeRole(u, sel) {
    try {
      await api('PATCH', `/v1/users/${u.id}`, { body: { role: sel.value } });
      toast(`${u.email} is now ${sel.value === 'admin' ? 'an admin' : 'a user'}.`);
      u.role = sel.value;
    } catch (e) {
      sel.value = u.role;
      toast(`Could not change the role of ${u.email}: ${describeError(e)}`, 'error');
    }
  }

  async function resetPassword(u) {
    await openDialog({
      title: `Reset password of ${u.email}`,
      build: (close) => {
        const pw = h('input', { type: 'password', autocomplete: 'new-password', required: true, 'data-autofocus': true });
        const err = h('div', { class: 'form-error', role: 'alert' });
        const f = h('form', {},
          field('New password', pw, 'Their other sessions end when the password changes.').wrap, err,
          h('div', { class: 'actions' },
            h('button', { type: 'button', class: 'btn', onclick: () => close(false) }, 'Cancel'),
            h('button', { type: 'submit', class: 'btn btn-primary' }, 'Set password')));
        f.addEventListener('submit', async (e) => {
          e.preventDefault();
          if (!pw.value) { err.textContent = 'Enter a new password.'; return; }
          try {
            await api('PATCH', `/v1/users/${u.id}`, { body: { password: pw.value } });
            toast(`Password of ${u.email} changed.`);
            close(true);
          } catch (e2) { err.textContent = describeError(e2, 'Setting the password'); }
        });
        return f;
      },
    });
  }

  async function remove(u) {
    const ok = await confirmDialog({
      title: `Delete ${u.email}?`,
      message: `${u.email} will no longer be able to sign in, and their API keys stop working. Users who still own assets cannot be deleted.`,
      confirmLabel: 'Delete user',
      danger: true,
    });
    if (!ok) return;
    try {
      await api('DELETE', `/v1/users/${u.id}`);
      toast(`Deleted ${u.email}.`);
      await load();
    } catch (e) {
      const msg = describeError(e, 'Deleting the user');
      await openDialog({
        title: 'The user was not deleted',
        build: (close) => [errorBox(msg), h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn btn-primary', onclick: () => close(true) }, 'OK'))],
      });
    }
  }

  mount(main,
    h('h1', {}, 'Users'),
    h('section', { class: 'card', 'aria-labelledby': 'create-user-h' }, h('h2', { id: 'create-user-h' }, 'Create a user'), form),
    h('section', { 'aria-labelledby': 'users-h' }, h('h2', { id: 'users-h' }, 'All users'), listWrap));
  await load();
}
