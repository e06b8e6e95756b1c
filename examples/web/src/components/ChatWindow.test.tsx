import { fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Message } from '../api/types';
import { message } from '../test/helpers';
import { ChatWindow } from './ChatWindow';

/** jsdom has no layout: give the scroll box a fixed geometry. */
function layout(el: HTMLElement, state: { scrollHeight: number; clientHeight: number }) {
  Object.defineProperty(el, 'scrollHeight', { configurable: true, get: () => state.scrollHeight });
  Object.defineProperty(el, 'clientHeight', { configurable: true, get: () => state.clientHeight });
}

function msgs(n: number, last = ''): Message[] {
  const list: Message[] = [];
  for (let i = 0; i < n; i++) list.push(message({ id: `m${i}`, role: i % 2 ? 'assistant' : 'user', content: `message ${i}` }));
  if (last) list.push(message({ id: 'streaming', role: 'assistant', content: last, status: 'streaming' }));
  return list;
}

describe('ChatWindow scrolling', () => {
  it('follows streamed content while the reader is at the bottom', () => {
    const geo = { scrollHeight: 1000, clientHeight: 400 };
    const { rerender } = render(<ChatWindow sessionId="s1" messages={msgs(4)} />);
    const box = screen.getByRole('region', { name: 'Messages' });
    layout(box, geo);
    rerender(<ChatWindow sessionId="s1" messages={msgs(4, 'Hel')} />);
    expect(box.scrollTop).toBe(1000);
    geo.scrollHeight = 1300;
    rerender(<ChatWindow sessionId="s1" messages={msgs(4, 'Hello there')} />);
    expect(box.scrollTop).toBe(1300);
    expect(screen.queryByRole('button', { name: /jump to latest/i })).toBeNull();
  });

  it('stays put when the reader scrolled up, and offers "Jump to latest"', async () => {
    const geo = { scrollHeight: 1000, clientHeight: 400 };
    const { rerender } = render(<ChatWindow sessionId="s1" messages={msgs(4)} />);
    const box = screen.getByRole('region', { name: 'Messages' });
    layout(box, geo);
    rerender(<ChatWindow sessionId="s1" messages={msgs(4, 'a')} />);
    expect(box.scrollTop).toBe(1000);
    // The reader scrolls up.
    box.scrollTop = 100;
    fireEvent.scroll(box);
    geo.scrollHeight = 1500;
    rerender(<ChatWindow sessionId="s1" messages={msgs(4, 'a lot more text')} />);
    expect(box.scrollTop).toBe(100);
    const jump = screen.getByRole('button', { name: /jump to latest/i });
    await userEvent.click(jump);
    expect(box.scrollTop).toBe(1500);
    expect(screen.queryByRole('button', { name: /jump to latest/i })).toBeNull();
    // Following again.
    geo.scrollHeight = 1800;
    rerender(<ChatWindow sessionId="s1" messages={msgs(4, 'a lot more text, and more')} />);
    expect(box.scrollTop).toBe(1800);
  });

  it('scrolling back to the bottom resumes following', () => {
    const geo = { scrollHeight: 1000, clientHeight: 400 };
    const { rerender } = render(<ChatWindow sessionId="s1" messages={msgs(2)} />);
    const box = screen.getByRole('region', { name: 'Messages' });
    layout(box, geo);
    box.scrollTop = 0;
    fireEvent.scroll(box);
    expect(screen.getByRole('button', { name: /jump to latest/i })).toBeInTheDocument();
    box.scrollTop = 590; // within the threshold of the bottom (600)
    fireEvent.scroll(box);
    expect(screen.queryByRole('button', { name: /jump to latest/i })).toBeNull();
    geo.scrollHeight = 1200;
    rerender(<ChatWindow sessionId="s1" messages={msgs(2, 'new')} />);
    expect(box.scrollTop).toBe(1200);
  });

  it('opening another chat starts at the bottom again', () => {
    const geo = { scrollHeight: 1000, clientHeight: 400 };
    const { rerender } = render(<ChatWindow sessionId="s1" messages={msgs(2)} />);
    const box = screen.getByRole('region', { name: 'Messages' });
    layout(box, geo);
    box.scrollTop = 0;
    fireEvent.scroll(box);
    rerender(<ChatWindow sessionId="s2" messages={msgs(3)} />);
    expect(box.scrollTop).toBe(1000);
  });

  it('shows an empty state and a not-found state', () => {
    const { rerender } = render(<ChatWindow sessionId={null} messages={[]} />);
    expect(screen.getByRole('heading', { name: 'How can I help?' })).toBeInTheDocument();
    rerender(<ChatWindow sessionId="x" messages={[]} error="not_found" />);
    expect(screen.getByText(/does not exist/)).toBeInTheDocument();
  });
});
