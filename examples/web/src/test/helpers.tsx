import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router';
import { vi } from 'vitest';
import { AppRoutes } from '../App';
import type { Message, Session, User } from '../api/types';
import { AuthProvider } from '../auth/AuthContext';
import { AUTH_KEY } from '../auth/storage';

export const USER: User = { id: 'u1', username: 'alice', email: 'alice@example.com', created_at: '2026-11-22T00:00:00Z' };

function b64url(s: string): string {
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** An unsigned JWT-shaped token with the given `exp` (seconds). */
export function fakeJwt(expSecs: number, jti = 'j1'): string {
  return `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify({ sub: USER.id, exp: expSecs, iat: expSecs - 1800, jti }))}.sig`;
}

export function authResponse(token: string) {
  return {
    access_token: token,
    token_type: 'bearer',
    expires_at: new Date(JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).exp * 1000).toISOString(),
    user: USER,
  };
}

export function seedAuth(token = fakeJwt(Math.floor(Date.now() / 1000) + 1800)): string {
  localStorage.setItem(AUTH_KEY, JSON.stringify({ token, user: USER, expiresAt: JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).exp * 1000 }));
  return token;
}

export function renderApp(route: string) {
  return render(
    <MemoryRouter initialEntries={[route]}>
      <AuthProvider>
        <AppRoutes />
      </AuthProvider>
    </MemoryRouter>,
  );
}

export function renderWithRouter(ui: ReactElement, route = '/') {
  return render(<MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>);
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

export type Route = (url: string, init: RequestInit) => Response | Promise<Response> | undefined;

/** Stubs global fetch with a router; unknown requests fail the test loudly. */
export function mockFetch(route: Route) {
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    const res = await route(url, { method: 'GET', ...init });
    if (!res) throw new Error(`unexpected fetch ${init.method ?? 'GET'} ${url}`);
    return res;
  });
  vi.stubGlobal('fetch', fn);
  return fn;
}

export function session(id: string, title: string, updated = '2026-11-22T01:00:00Z'): Session {
  return { id, title, created_at: '2026-11-22T00:00:00Z', updated_at: updated };
}

export function message(p: Partial<Message> & Pick<Message, 'id' | 'role' | 'content'>): Message {
  return {
    session_id: 's1',
    timestamp: '2026-11-22T01:00:00Z',
    status: 'complete',
    provider: p.role === 'assistant' ? 'offline' : null,
    model: p.role === 'assistant' ? 'offline-echo' : null,
    usage: null,
    ...p,
  };
}

/** A controllable stand-in for the browser WebSocket. */
export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  static reset() {
    FakeWebSocket.instances = [];
  }
  static get last(): FakeWebSocket {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
  }
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  constructor(public url: string) {
    FakeWebSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code });
  }
  /** Server side: accept the connection. */
  accept() {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** Server side: send a frame. */
  push(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  /** Server side: drop the connection. */
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}
