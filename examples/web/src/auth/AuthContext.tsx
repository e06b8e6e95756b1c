import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import * as authApi from '../api/auth';
import { setAuthHooks } from '../api/http';
import type { AuthResponse, User } from '../api/types';
import { AUTH_KEY, fromResponse, loadAuth, saveAuth, type StoredAuth } from './storage';

export type LogoutReason = 'user' | 'expired';

export interface AuthContextValue {
  user: User | null;
  token: string | null;
  /** Token expiry, ms since the epoch. */
  expiresAt: number | null;
  /** Why the last session ended (drives the notice on the login page). */
  logoutReason: LogoutReason | null;
  signIn: (res: AuthResponse) => void;
  logout: (reason?: LogoutReason) => void;
  /** POST /auth/refresh; resolves with the fresh token. */
  refresh: () => Promise<string>;
  /** Latest token, for long-lived callers (the socket). */
  getToken: () => string | null;
}

const AuthContext = createContext<AuthContextValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [auth, setAuth] = useState<StoredAuth | null>(() => loadAuth());
  const [logoutReason, setLogoutReason] = useState<LogoutReason | null>(null);
  const authRef = useRef(auth);
  authRef.current = auth;

  const update = useCallback((next: StoredAuth | null) => {
    authRef.current = next;
    saveAuth(next);
    setAuth(next);
  }, []);

  const signIn = useCallback(
    (res: AuthResponse) => {
      setLogoutReason(null);
      update(fromResponse(res));
    },
    [update],
  );

  const logout = useCallback(
    (reason: LogoutReason = 'user') => {
      if (!authRef.current) return;
      setLogoutReason(reason);
      update(null);
    },
    [update],
  );

  const refresh = useCallback(async () => {
    const res = await authApi.refresh();
    update(fromResponse(res));
    return res.access_token;
  }, [update]);

  const getToken = useCallback(() => authRef.current?.token ?? null, []);

  // The REST client reads the token from here; a 401 on an authenticated call ends the session.
  // Set during render (idempotent), not in an effect: children's effects run
  // first and their requests must already carry the token.
  setAuthHooks({ getToken, onUnauthorized: () => logout('expired') });

  // Keep tabs in step: a login or logout in another tab applies here too.
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key !== AUTH_KEY) return;
      const next = loadAuth();
      authRef.current = next;
      setAuth(next);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  const value = useMemo<AuthContextValue>(
    () => ({
      user: auth?.user ?? null,
      token: auth?.token ?? null,
      expiresAt: auth?.expiresAt ?? null,
      logoutReason,
      signIn,
      logout,
      refresh,
      getToken,
    }),
    [auth, logoutReason, signIn, logout, refresh, getToken],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth must be used inside <AuthProvider>');
  return ctx;
}

/** For tests: provide a fixed auth context. */
export const AuthContextForTests = AuthContext;
