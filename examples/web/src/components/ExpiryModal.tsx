import { useEffect, useState } from 'react';
import { Modal } from './Modal';

interface ExpiryModalProps {
  /** Token expiry, ms since the epoch. */
  expiresAt: number | null;
  onStay: () => Promise<void>;
  onLogInAgain: () => void;
  onDismiss: () => void;
}

function formatLeft(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return m > 0 ? `${m} min ${s.toString().padStart(2, '0')} s` : `${s} s`;
}

/** "Your session is about to expire" with Stay signed in / Log in again. */
export function ExpiryModal({ expiresAt, onStay, onLogInAgain, onDismiss }: ExpiryModalProps) {
  const [now, setNow] = useState(() => Date.now());
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  async function stay() {
    setPending(true);
    setError(null);
    try {
      await onStay();
    } catch {
      setError('Could not extend your session. Log in again to continue.');
      setPending(false);
    }
  }

  return (
    <Modal title="Your session is about to expire" role="alertdialog" onDismiss={pending ? undefined : onDismiss}>
      <p>
        {expiresAt !== null
          ? `For your security you will be signed out in ${formatLeft(expiresAt - now)}.`
          : 'For your security you will be signed out soon.'}{' '}
        Your unsent message is kept either way.
      </p>
      {error && (
        <p role="alert" className="alert alert--error">
          {error}
        </p>
      )}
      <div className="modal__actions">
        <button type="button" className="btn" onClick={onLogInAgain} disabled={pending}>
          Log in again
        </button>
        <button
          type="button"
          className="btn btn--primary"
          onClick={stay}
          disabled={pending}
          aria-busy={pending || undefined}
          data-autofocus
        >
          Stay signed in
        </button>
      </div>
    </Modal>
  );
}
