import { act, render, renderHook, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useTokenExpiry } from '../auth/useTokenExpiry';
import { ExpiryModal } from './ExpiryModal';

afterEach(() => vi.useRealTimers());

describe('ExpiryModal', () => {
  it('is an alert dialog with both choices, focus on "Stay signed in"', () => {
    render(<ExpiryModal expiresAt={Date.now() + 290_000} onStay={vi.fn()} onLogInAgain={vi.fn()} onDismiss={vi.fn()} />);
    const dialog = screen.getByRole('alertdialog', { name: 'Your session is about to expire' });
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    expect(dialog).toHaveTextContent(/signed out in 4 min/);
    expect(screen.getByRole('button', { name: 'Stay signed in' })).toHaveFocus();
    expect(screen.getByRole('button', { name: 'Log in again' })).toBeInTheDocument();
  });

  it('traps focus inside the dialog', async () => {
    render(
      <>
        <button>outside</button>
        <ExpiryModal expiresAt={Date.now() + 60_000} onStay={vi.fn()} onLogInAgain={vi.fn()} onDismiss={vi.fn()} />
      </>,
    );
    const stay = screen.getByRole('button', { name: 'Stay signed in' });
    const again = screen.getByRole('button', { name: 'Log in again' });
    expect(stay).toHaveFocus();
    await userEvent.tab();
    expect(again).toHaveFocus();
    await userEvent.tab();
    expect(stay).toHaveFocus();
    await userEvent.tab({ shift: true });
    expect(again).toHaveFocus();
    await userEvent.tab({ shift: true });
    expect(stay).toHaveFocus();
  });

  it('"Stay signed in" calls onStay with a pending state; failure is reported', async () => {
    let reject: (e: Error) => void = () => {};
    const onStay = vi.fn(() => new Promise<void>((_, r) => (reject = r)));
    render(<ExpiryModal expiresAt={Date.now() + 60_000} onStay={onStay} onLogInAgain={vi.fn()} onDismiss={vi.fn()} />);
    await userEvent.click(screen.getByRole('button', { name: 'Stay signed in' }));
    expect(onStay).toHaveBeenCalledTimes(1);
    expect(screen.getByRole('button', { name: 'Stay signed in' })).toBeDisabled();
    await act(async () => reject(new Error('401')));
    expect(await screen.findByRole('alert')).toHaveTextContent(/could not extend/i);
  });

  it('"Log in again" and Escape call their handlers', async () => {
    const onLogInAgain = vi.fn();
    const onDismiss = vi.fn();
    render(<ExpiryModal expiresAt={null} onStay={vi.fn()} onLogInAgain={onLogInAgain} onDismiss={onDismiss} />);
    await userEvent.keyboard('{Escape}');
    expect(onDismiss).toHaveBeenCalled();
    await userEvent.click(screen.getByRole('button', { name: 'Log in again' }));
    expect(onLogInAgain).toHaveBeenCalled();
  });
});

describe('useTokenExpiry (fallback timer from the JWT exp)', () => {
  it('warns 5 minutes before expiry and expires at exp', () => {
    vi.useFakeTimers();
    const now = Date.now();
    const onExpired = vi.fn();
    const { result } = renderHook(() => useTokenExpiry(now + 6 * 60_000, onExpired));
    expect(result.current).toBe(false);
    act(() => vi.advanceTimersByTime(59_000));
    expect(result.current).toBe(false);
    act(() => vi.advanceTimersByTime(2_000));
    expect(result.current).toBe(true);
    expect(onExpired).not.toHaveBeenCalled();
    act(() => vi.advanceTimersByTime(5 * 60_000));
    expect(onExpired).toHaveBeenCalledTimes(1);
  });

  it('warns at once when less than 5 minutes are left, and resets for a new token', async () => {
    const onExpired = vi.fn();
    const { result, rerender } = renderHook(({ exp }) => useTokenExpiry(exp, onExpired), {
      initialProps: { exp: Date.now() + 60_000 },
    });
    await waitFor(() => expect(result.current).toBe(true));
    rerender({ exp: Date.now() + 30 * 60_000 });
    await waitFor(() => expect(result.current).toBe(false));
  });
});
