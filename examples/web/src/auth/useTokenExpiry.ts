import { useEffect, useState } from 'react';

/** Warn this long before expiry (the server's `token_expiring` uses the same lead). */
export const EXPIRY_WARNING_MS = 5 * 60 * 1000;

/**
 * Fallback expiry timers from the JWT's `exp`: `warning` turns true 5 minutes
 * before expiry (unless the server's `token_expiring` frame came first), and
 * `onExpired` fires at expiry.
 */
export function useTokenExpiry(expiresAt: number | null, onExpired: () => void): boolean {
  const [warning, setWarning] = useState(false);

  useEffect(() => {
    setWarning(false);
    if (expiresAt === null) return;
    const now = Date.now();
    const timers: ReturnType<typeof setTimeout>[] = [];
    const warnIn = expiresAt - EXPIRY_WARNING_MS - now;
    if (warnIn <= 0) setWarning(true);
    else timers.push(setTimeout(() => setWarning(true), warnIn));
    // setTimeout caps at ~24.8 days; tokens live minutes, but stay safe.
    const expireIn = Math.min(expiresAt - now, 2 **31 - 1);
    timers.push(setTimeout(onExpired, Math.max(0, expireIn)));
    return () => timers.forEach(clearTimeout);
  }, [expiresAt, onExpired]);

  return warning;
}
