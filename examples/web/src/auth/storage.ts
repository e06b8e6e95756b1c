import type { AuthResponse, User } from '../api/types';
import { tokenExpiryMs } from './jwt';

export interface StoredAuth {
  token: string;
  user: User;
  /** ms since the epoch, or null if unknown */
  expiresAt: number | null;
}

export const AUTH_KEY = 'chatcore.auth';

export function fromResponse(res: AuthResponse): StoredAuth {
  return { token: res.access_token, user: res.user, expiresAt: tokenExpiryMs(res.access_token, res.expires_at) };
}

export function loadAuth(now = Date.now()): StoredAuth | null {
  try {
    const raw = localStorage.getItem(AUTH_KEY);
    if (!raw) return null;
    const a = JSON.parse(raw) as StoredAuth;
    if (!a || typeof a.token !== 'string' || !a.user) return null;
    if (a.expiresAt !== null && a.expiresAt <= now) {
      localStorage.removeItem(AUTH_KEY);
      return null;
    }
    return a;
  } catch {
    return null;
  }
}

export function saveAuth(a: StoredAuth | null): void {
  try {
    if (a) localStorage.setItem(AUTH_KEY, JSON.stringify(a));
    else localStorage.removeItem(AUTH_KEY);
  } catch {
    // ignore
  }
}
