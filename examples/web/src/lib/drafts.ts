// Unsent message drafts, per user and session, kept in localStorage so that
// a reload or a forced re-login does not lose what the user was typing.

const PREFIX = 'chatcore.draft.';

function key(userId: string, sessionId: string | null | undefined): string {
  return `${PREFIX}${userId}.${sessionId ?? 'new'}`;
}

export function loadDraft(userId: string, sessionId: string | null | undefined): string {
  try {
    return localStorage.getItem(key(userId, sessionId)) ?? '';
  } catch {
    return '';
  }
}

export function saveDraft(userId: string, sessionId: string | null | undefined, text: string): void {
  try {
    if (text) localStorage.setItem(key(userId, sessionId), text);
    else localStorage.removeItem(key(userId, sessionId));
  } catch {
    // Storage full or disabled: drafts are best effort.
  }
}

export function clearDraft(userId: string, sessionId: string | null | undefined): void {
  saveDraft(userId, sessionId, '');
}
