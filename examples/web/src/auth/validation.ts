// Client-side checks that mirror the server's rules (API.md, Auth service).

export type FieldErrors = Partial<Record<'email' | 'password' | 'username', string>>;

/** Length in Unicode scalar values, as the server counts. */
export function charLength(s: string): number {
  return Array.from(s).length;
}

const EMAIL_RE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

export function validateEmail(raw: string): string | undefined {
  const email = raw.trim();
  if (!email) return 'Enter your email address.';
  if (email.length > 254 || !EMAIL_RE.test(email)) return 'Enter a valid email address, like name@example.com.';
  return undefined;
}

export function validatePassword(pw: string): string | undefined {
  const n = charLength(pw);
  if (n === 0) return 'Enter your password.';
  if (n < 8) return 'Password must be at least 8 characters.';
  if (n > 128) return 'Password must be at most 128 characters.';
  return undefined;
}

const USERNAME_RE = /^[A-Za-z0-9_.-]+$/;

export function validateUsername(raw: string): string | undefined {
  const name = raw.trim();
  if (!name) return undefined; // optional
  const n = charLength(name);
  if (n < 3 || n > 32) return 'Username must be 3 to 32 characters.';
  if (!USERNAME_RE.test(name)) return 'Username may use only letters, digits, _ . and -.';
  return undefined;
}

export function validateLogin(email: string, password: string): FieldErrors {
  const errors: FieldErrors = {};
  const e = validateEmail(email);
  if (e) errors.email = e;
  // Login only checks presence: an old account's password is not re-judged here.
  if (!password) errors.password = 'Enter your password.';
  return errors;
}

export function validateRegister(email: string, password: string, username: string): FieldErrors {
  const errors: FieldErrors = {};
  const e = validateEmail(email);
  if (e) errors.email = e;
  const p = validatePassword(password);
  if (p) errors.password = p;
  const u = validateUsername(username);
  if (u) errors.username = u;
  return errors;
}
