// Who is signed in: the user from /v1/auth/me, shared by the shell and the views.

import { api } from './api.js';

export const session = { user: null };

/** Asks the server who we are; null when not signed in (the 401 is expected here). */
export async function loadSession() {
  try {
    session.user = await api('GET', '/v1/auth/me', { quiet401: true });
  } catch (e) {
    if (e.status !== 401) throw e;
    session.user = null;
  }
  return session.user;
}

export function isAdmin() { return Boolean(session.user && session.user.role === 'admin'); }
