import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mockFetch, renderApp } from '../test/helpers';

afterEach(() => vi.unstubAllGlobals());

async function fill(email: string, password: string, username = '') {
  await userEvent.type(screen.getByLabelText('Email'), email);
  await userEvent.type(screen.getByLabelText('Password'), password);
  if (username) await userEvent.type(screen.getByLabelText('Username'), username);
  await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
}

describe('RegisterPage', () => {
  it('checks password length and username charset on the client', async () => {
    const fetch = mockFetch(() => undefined);
    renderApp('/auth/register');
    await fill('bob@example.com', 'short', 'no spaces');
    expect(screen.getByLabelText('Password')).toHaveAccessibleDescription(/at least 8 characters/);
    expect(screen.getByLabelText('Username')).toHaveAccessibleDescription(/letters, digits/);
    expect(screen.getByLabelText('Password')).toHaveFocus();
    expect(fetch).not.toHaveBeenCalled();
  });

  it('puts 422 field errors at their fields', async () => {
    mockFetch(() =>
      json(422, { error: { code: 'validation_error', message: 'invalid', fields: { email: 'email is not deliverable' } } }),
    );
    renderApp('/auth/register');
    await fill('bob@example.com', 'password123');
    expect(await screen.findByText('email is not deliverable')).toBeInTheDocument();
    expect(screen.getByLabelText('Email')).toHaveAccessibleDescription('email is not deliverable');
  });

  it('puts a 409 on the username when the server says so, else on the email', async () => {
    mockFetch(() => json(409, { error: { code: 'conflict', message: 'username already taken' } }));
    renderApp('/auth/register');
    await fill('bob@example.com', 'password123', 'bobby');
    expect(await screen.findByText('This username is already taken.')).toBeInTheDocument();
    expect(screen.getByLabelText('Username')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByLabelText('Email')).not.toHaveAttribute('aria-invalid');
  });

  it('409 for the email', async () => {
    mockFetch(() => json(409, { error: { code: 'conflict', message: 'email already registered' } }));
    renderApp('/auth/register');
    await fill('bob@example.com', 'password123');
    expect(await screen.findByText('An account with this email already exists.')).toBeInTheDocument();
    expect(screen.getByLabelText('Email')).toHaveFocus();
  });

  it('sends trimmed email and omits an empty username', async () => {
    const fetch = mockFetch(() => json(500, { error: { code: 'internal', message: 'boom' } }));
    renderApp('/auth/register');
    await fill('  bob@example.com ', 'password123');
    await screen.findByRole('alert');
    const body = JSON.parse(String(fetch.mock.calls[0][1]?.body));
    expect(body).toEqual({ email: 'bob@example.com', password: 'password123' });
  });
});
