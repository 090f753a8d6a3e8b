// The sign-in page: email + password, with clear messages for a wrong password and for rate limiting.

import { api } from '../api.js';
import { h, mount, field } from '../ui.js';
import { navigate, BASE } from '../router.js';
import { session } from '../session.js';

export async function render(main, { query }) {
  document.title = 'Sign in · img-cloud';
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const status = h('div', { class: 'form-error', id: 'login-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
  let timer = null;

  const form = h('form', { class: 'card login-card', novalidate: true, 'aria-describedby': 'login-error' },
    h('h1', {}, 'Sign in to img-cloud'),
    field('Email', email).wrap,
    field('Password', password).wrap,
    status,
    h('div', { class: 'actions' }, submit));

  function countdown(seconds) {
    clearInterval(timer);
    let left = seconds;
    const show = () => {
      status.textContent = `Too many sign-in attempts. Wait ${left} second${left === 1 ? '' : 's'} before trying again.`;
      status.dataset.retryAfter = String(left);
    };
    show();
    submit.disabled = true;
    timer = setInterval(() => {
      left -= 1;
      if (left <= 0) {
        clearInterval(timer);
        submit.disabled = false;
        status.textContent = 'You can try to sign in again now.';
        delete status.dataset.retryAfter;
        return;
      }
      // Only the number changes; role=alert would re-announce every tick, so update quietly.
      status.setAttribute('role', 'status');
      show();
    }, 1000);
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.setAttribute('role', 'alert');
    if (!email.value.trim() || !password.value) {
      status.textContent = 'Enter your email and password.';
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    status.textContent = '';
    try {
      session.user = await api('POST', '/v1/auth/login', { body: { email: email.value.trim(), password: password.value }, quiet401: true });
      const next = query.get('next');
      navigate(next && next.startsWith(`${BASE}/`) && !next.startsWith(`${BASE}/login`) ? next : `${BASE}/`, { replace: true });
    } catch (err) {
      submit.disabled = false;
      if (err.status === 429) { countdown(err.retryAfter ?? 60); return; }
      if (err.status === 401) {
        status.textContent = 'Wrong email or password. Check both and try again.';
        password.select();
        password.focus();
        return;
      }
      status.textContent = err.message;
    }
  });

  mount(main, h('div', { class: 'login-wrap' }, form));
  email.focus();
  return () => clearInterval(timer);
}
