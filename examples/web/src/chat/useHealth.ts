import { useEffect, useState } from 'react';
import { health } from '../api/chat';
import type { Health } from '../api/types';

/** GET /health once: which providers the server has (`offline` = no LLM keys). */
export function useHealth(): Health | null {
  const [h, setH] = useState<Health | null>(null);
  useEffect(() => {
    let alive = true;
    health().then(
      (res) => alive && setH(res),
      () => {},
    );
    return () => {
      alive = false;
    };
  }, []);
  return h;
}

export function isOfflineOnly(h: Health | null): boolean {
  if (!h || !Array.isArray(h.providers)) return false;
  return h.providers.length === 0 || h.providers.every((p) => p.name === 'offline');
}
