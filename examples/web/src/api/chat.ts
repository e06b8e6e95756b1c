import { request } from './http';
import type { Health, Session, SessionWithMessages } from './types';

const enc = encodeURIComponent;

export function listSessions(limit = 200): Promise<Session[]> {
  return request<Session[]>(`/chat/sessions?limit=${limit}`);
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
