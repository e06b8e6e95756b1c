/** Reads the `exp` claim (seconds since the epoch) of a JWT without verifying it. */
export function jwtExpiry(token: string): number | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
    const json = decodeURIComponent(
      Array.from(atob(padded), (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''),
    );
    const claims = JSON.parse(json) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp : null;
  } catch {
    return null;
  }
}

/** Expiry in ms since the epoch: the JWT's `exp`, else the server's `expires_at`. */
export function tokenExpiryMs(token: string, expiresAt?: string | null): number | null {
  const exp = jwtExpiry(token);
  if (exp !== null) return exp * 1000;
  if (expiresAt) {
    const t = Date.parse(expiresAt);
    if (!Number.isNaN(t)) return t;
  }
  return null;
}
