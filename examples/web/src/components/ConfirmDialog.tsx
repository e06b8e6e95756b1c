import type { ReactNode } from 'react';
import { Modal } from './Modal';

interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  pending?: boolean;
}

export function ConfirmDialog({ title, children, confirmLabel, onConfirm, onCancel, pending }: ConfirmDialogProps) {
  return (
    <Modal title={title} role="alertdialog" onDismiss={onCancel}>
      {children}
      <div className="modal__actions">
        <button type="button" className="btn" onClick={onCancel} data-autofocus>
          Cancel
        </button>
        <button type="button" className="btn btn--danger" onClick={onConfirm} disabled={pending} aria-busy={pending || undefined}>
          {confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
