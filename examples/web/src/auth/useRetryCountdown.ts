import { useEffect, useState } from 'react';

/** Counts down the seconds of a 429's Retry-After. */
export function useRetryCountdown(): [number, (secs: number | null) => void] {
  const [left, setLeft] = useState(0);
  useEffect(() => {
    if (left <= 0) return;
    const t = setTimeout(() => setLeft((n) => n - 1), 1000);
    return () => clearTimeout(t);
  }, [left]);
  return [left, (secs) => setLeft(secs ?? 30)];
}
