import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useAuth } from './AuthContext';

export interface FromState {
  from?: { pathname: string; search?: string; hash?: string };
}

/** Sends unauthenticated visitors to the login page, remembering where they were. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { token } = useAuth();
  const location = useLocation();
  if (!token) {
    const state: FromState = {
      from: { pathname: location.pathname, search: location.search, hash: location.hash },
    };
    return <Navigate to="/auth/login" replace state={state} />;
  }
  return <>{children}</>;
}

/** Where to go after login: the remembered page, else /chat. */
export function returnPath(state: unknown): string {
  const from = (state as FromState | null)?.from;
  if (!from || typeof from.pathname !== 'string' || !from.pathname.startsWith('/') || from.pathname.startsWith('/auth')) {
    return '/chat';
  }
  return from.pathname + (from.search ?? '') + (from.hash ?? '');
}
