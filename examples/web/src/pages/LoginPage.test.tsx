import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { authResponse, fakeJwt, json, mockFetch, renderApp, session } from '../test/helpers';
import { FakeWebSocket } from '../test/helpers';

afterEach(() => {
  vi.unstubAllGlobals();
  FakeWebSocket.reset();
});

describe('LoginPage', () => {
  it('validates on the client before calling the server', async () => {
    const fetch = mockFetch(() => undefined);
    renderApp('/auth/login');
    await userEvent.type(screen.getByLabelText('Email'), 'not-an-email');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(screen.getByLabelText('Email')).toHaveAccessibleDescription(/valid email/i);
    expect(screen.getByLabelText('Email')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByLabelText('Password')).toHaveAccessibleDescription(/enter your password/i);
    expect(screen.getByLabelText('Email')).toHaveFocus();
    expect(fetch).not.toHaveBeenCalled();
  });

  it('shows a 401 as a form error and keeps the user on the page', async () => {
    mockFetch((url) => (url === '/auth/login' ? json(401, { error: { code: 'unauthorized', message: 'invalid credentials' } }) : undefined));
    renderApp('/auth/login');
    await userEvent.type(screen.getByLabelText('Email'), 'alice@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'wrong-password');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Incorrect email or password.');
    expect(screen.getByRole('heading', { name: 'Log in' })).toBeInTheDocument();
  });

  it('shows the pending state on the button while the request runs', async () => {
    let release: (r: Response) => void = () => {};
    mockFetch((url) => (url === '/auth/login' ? new Promise<Response>((r) => (release = r)) : undefined));
    renderApp('/auth/login');
    await userEvent.type(screen.getByLabelText('Email'), 'alice@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'password1');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    const btn = screen.getByRole('button', { name: 'Log in' });
    expect(btn).toBeDisabled();
    expect(btn).toHaveAttribute('aria-busy', 'true');
    release(json(401, { error: { code: 'unauthorized', message: 'no' } }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Log in' })).toBeEnabled());
  });

  it('shows 429 with the Retry-After countdown and disables the button', async () => {
    mockFetch((url) =>
      url === '/auth/login' ? json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'Retry-After': '42' }) : undefined,
    );
    renderApp('/auth/login');
    await userEvent.type(screen.getByLabelText('Email'), 'alice@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'password1');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(/try again in 42 seconds/i);
    expect(screen.getByRole('button', { name: 'Log in' })).toBeDisabled();
  });

  it('redirects an unauthenticated visit to login and returns there after login', async () => {
    vi.stubGlobal('WebSocket', FakeWebSocket);
    const token = fakeJwt(Math.floor(Date.now() / 1000) + 1800);
    mockFetch((url, init) => {
      if (url === '/auth/login' && init.method === 'POST') return json(200, authResponse(token));
      if (url.startsWith('/chat/sessions?')) return json(200, [session('s1', 'Trip plan')]);
      if (url === '/chat/sessions/s1') return json(200, { session: session('s1', 'Trip plan'), messages: [] });
      if (url === '/health') return json(200, { status: 'ok', database: 'ok', providers: [] });
      return undefined;
    });
    renderApp('/chat/s1');
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText('Email'), 'alice@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'password1');
    await userEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('heading', { name: 'Trip plan' })).toBeInTheDocument();
    expect(localStorage.getItem('chatcore.auth')).toContain(token);
  });
});
