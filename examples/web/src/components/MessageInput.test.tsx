import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { loadDraft } from '../lib/drafts';
import { MessageInput } from './MessageInput';

function setup(props: Partial<Parameters<typeof MessageInput>[0]> = {}) {
  const onSend = props.onSend ?? vi.fn().mockResolvedValue({ ok: true });
  const onStop = props.onStop ?? vi.fn();
  const utils = render(
    <MessageInput userId="u1" sessionId="s1" streaming={false} onSend={onSend} onStop={onStop} {...props} />,
  );
  return { ...utils, onSend, onStop, box: screen.getByLabelText('Message') as HTMLTextAreaElement };
}

describe('MessageInput', () => {
  it('Enter sends and clears; Shift+Enter adds a line', async () => {
    const { box, onSend } = setup();
    await userEvent.type(box, 'line one{Shift>}{Enter}{/Shift}line two');
    expect(box.value).toBe('line one\nline two');
    expect(onSend).not.toHaveBeenCalled();
    await userEvent.keyboard('{Enter}');
    expect(onSend).toHaveBeenCalledWith('line one\nline two');
    await waitFor(() => expect(box.value).toBe(''));
  });

  it('the Send button sends; it is disabled for blank input', async () => {
    const { box, onSend } = setup();
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled();
    await userEvent.type(box, '   ');
    expect(screen.getByRole('button', { name: 'Send' })).toBeDisabled();
    await userEvent.type(box, 'hi');
    await userEvent.click(screen.getByRole('button', { name: 'Send' }));
    expect(onSend).toHaveBeenCalledWith('   hi');
  });

  it('keeps the input when sending fails', async () => {
    const onSend = vi.fn().mockResolvedValue({ ok: false, error: 'rate limited' });
    const { box } = setup({ onSend });
    await userEvent.type(box, 'please keep me{Enter}');
    await waitFor(() => expect(box.value).toBe('please keep me'));
    expect(loadDraft('u1', 's1')).toBe('please keep me');
  });

  it('shows Stop instead of Send while a reply streams', async () => {
    const { onStop, onSend, box } = setup({ streaming: true });
    expect(screen.queryByRole('button', { name: 'Send' })).toBeNull();
    await userEvent.type(box, 'next{Enter}');
    expect(onSend).not.toHaveBeenCalled();
    expect(box.value).toBe('next');
    await userEvent.click(screen.getByRole('button', { name: 'Stop' }));
    expect(onStop).toHaveBeenCalled();
  });

  it('persists drafts per session and restores them', async () => {
    const { box, rerender, onSend, onStop } = setup();
    await userEvent.type(box, 'draft for s1');
    expect(loadDraft('u1', 's1')).toBe('draft for s1');
    rerender(<MessageInput userId="u1" sessionId="s2" streaming={false} onSend={onSend} onStop={onStop} />);
    expect(box.value).toBe('');
    await userEvent.type(box, 'other');
    rerender(<MessageInput userId="u1" sessionId="s1" streaming={false} onSend={onSend} onStop={onStop} />);
    expect(box.value).toBe('draft for s1');
  });

  it('starts with the saved draft (e.g. after logging in again)', () => {
    localStorage.setItem('chatcore.draft.u1.s1', 'unsent words');
    const { box } = setup();
    expect(box.value).toBe('unsent words');
  });
});
