import { errorFromResponse, rawFetch, request } from './http';
import { nextLink } from './link';
import type { Health, Session, SessionWithMessages } from './types';

const enc = encodeURIComponent;

/** The server's default page size, and its maximum (`?limit` 1..=200). */
export const SESSION_PAGE_SIZE = 50;
export const SESSION_PAGE_MAX = 200;

export interface SessionPage {
  sessions: Session[];
  /** Same-origin path of the next page (the `Link` rel="next"), null on the last page. */
  next: string | null;
}

export function sessionsPath(limit = SESSION_PAGE_SIZE): string {
  return `/chat/sessions?limit=${limit}`;
}

/** One page of GET /chat/sessions: `path` is a first-page path or a `next` from an earlier page. */
export async function listSessionsPage(path: string = sessionsPath(), signal?: AbortSignal): Promise<SessionPage> {
  const res = await rawFetch(path, { signal });
  if (!res.ok) throw await errorFromResponse(res);
  const sessions = (await res.json()) as Session[];
  return { sessions: Array.isArray(sessions) ? sessions : [], next: nextLink(res.headers.get('Link'), path) };
}

export function getSession(id: string, signal?: AbortSignal): Promise<SessionWithMessages> {
  return request<SessionWithMessages>(`/chat/sessions/${enc(id)}`, { signal });
}

export function createSession(title?: string): Promise<Session> {
  return request<Session>('/chat/sessions', { method: 'POST', body: title ? { title } : {} });
}

export function renameSession(id: string, title: string): Promise<Session> {
  return request<Session>(`/chat/sessions/${enc(id)}`, { method: 'PATCH', body: { title } });
}

export function deleteSession(id: string): Promise<void> {
  return request<void>(`/chat/sessions/${enc(id)}`, { method: 'DELETE' });
}

export function stopGeneration(id: string): Promise<void> {
  return request<void>(`/chat/sessions/${enc(id)}/stop`, { method: 'POST' });
}

export function health(): Promise<Health> {
  return request<Health>('/health', { auth: false });
}
