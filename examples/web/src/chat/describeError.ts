import { ApiError } from '../api/http';

/** A short human sentence for a failed request. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429) {
      return `You are sending messages too fast.${err.retryAfter ? ` Try again in ${err.retryAfter} s.` : ''}`;
    }
    if (err.status === 409) return 'A reply is still being written in this chat. Wait for it or press Stop.';
    return err.message;
  }
  return 'Something went wrong. Please try again.';
}
