import type { ReactNode } from 'react';

export function AuthCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="auth">
      <div className="auth__card">
        <p className="auth__brand" aria-hidden="true">
          chatcore
        </p>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  );
}

export function FormAlert({ message, retryLeft }: { message?: string; retryLeft: number }) {
  if (!message) return null;
  const text =
    message === 'rate'
      ? retryLeft > 0
        ? `Too many attempts. Try again in ${retryLeft} second${retryLeft === 1 ? '' : 's'}.`
        : 'Too many attempts. You can try again now.'
      : message;
  return (
    <div role="alert" className="alert alert--error">
      {text}
    </div>
  );
}
