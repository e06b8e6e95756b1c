import { ApiError } from '../api/http';
import type { FieldErrors } from './validation';

export interface MappedError {
  fields: FieldErrors;
  form?: string;
  retryAfter?: number | null;
}

const KNOWN = ['email', 'password', 'username'] as const;

/** Places a server error at the field it concerns (422 `fields`, 409 conflict), else on the form. */
export function mapAuthError(err: unknown, mode: 'login' | 'register'): MappedError {
  if (!(err instanceof ApiError)) return { fields: {}, form: 'Something went wrong. Please try again.' };
  const fields: FieldErrors = {};
  for (const k of KNOWN) {
    if (err.fields[k]) fields[k] = err.fields[k];
  }
  switch (err.status) {
    case 0:
      return { fields, form: err.message };
    case 401:
      return { fields, form: 'Incorrect email or password.' };
    case 409: {
      if (Object.keys(fields).length) return { fields };
      const m = err.message.toLowerCase();
      if (m.includes('username')) return { fields: { username: 'This username is already taken.' } };
      return { fields: { email: 'An account with this email already exists.' } };
    }
    case 422:
      if (Object.keys(fields).length) return { fields };
      return { fields, form: err.message };
    case 429:
      return { fields, form: 'rate', retryAfter: err.retryAfter };
    default:
      return {
        fields,
        form: mode === 'login' ? `Could not log in: ${err.message}` : `Could not create the account: ${err.message}`,
      };
  }
}
