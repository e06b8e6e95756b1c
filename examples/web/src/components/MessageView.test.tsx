import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { message } from '../test/helpers';
import { MessageView } from './MessageView';

afterEach(() => vi.unstubAllGlobals());

describe('MessageView', () => {
  it('labels messages by role as articles', () => {
    render(
      <>
        <MessageView message={message({ id: 'a', role: 'user', content: 'hi' })} />
        <MessageView message={message({ id: 'b', role: 'assistant', content: 'hello' })} />
      </>,
    );
    const articles = screen.getAllByRole('article');
    expect(articles.map((a) => a.getAttribute('aria-label'))).toEqual(['user message', 'assistant message']);
  });

  it('renders Markdown with highlighted code blocks and a copy button', async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const content = 'Here is **bold** and a list:\n\n- one\n- two\n\n```js\nconst x = 1;\n```\n';
    render(<MessageView message={message({ id: 'b', role: 'assistant', content })} />);
    const art = screen.getByRole('article', { name: 'assistant message' });
    expect(within(art).getByText('bold').tagName).toBe('STRONG');
    expect(within(art).getAllByRole('listitem')).toHaveLength(2);
    const code = art.querySelector('pre code')!;
    expect(code).toHaveClass('hljs', 'language-js');
    expect(code.querySelector('.hljs-keyword')).toHaveTextContent('const');
    expect(within(art).getByText('js')).toBeInTheDocument();
    await userEvent.click(within(art).getByRole('button', { name: 'Copy code' }));
    expect(writeText).toHaveBeenCalledWith('const x = 1;');
    expect(within(art).getByRole('button', { name: 'Copy code' })).toHaveTextContent('Copied');
  });

  it('shows HTML from the model as text and never inserts it', () => {
    const evil =
      'Look: <script>window.__pwned = 1</script> and <img src=x onerror="window.__pwned = 2"> <b>bold?</b>\n\n<iframe src="https://evil.example"></iframe>\n\n[click](javascript:alert(1))';
    const { container } = render(<MessageView message={message({ id: 'b', role: 'assistant', content: evil })} />);
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('iframe')).toBeNull();
    expect(container.querySelector('b')).toBeNull();
    expect(container.querySelector('[onerror]')).toBeNull();
    expect(container).toHaveTextContent('<script>window.__pwned = 1</script>');
    expect(container).toHaveTextContent('<img src=x onerror="window.__pwned = 2">');
    expect(container).toHaveTextContent('<iframe src="https://evil.example"></iframe>');
    const link = screen.getByText('click').closest('a');
    expect(link?.getAttribute('href') ?? '').not.toMatch(/javascript:/i);
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it("renders a user's fenced code block as highlighted code with a copy button, not as backticks", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const content = 'Why does this fail?\n```python\ndef f(x):\n    return x\n```\nThanks';
    render(<MessageView message={message({ id: 'a', role: 'user', content })} />);
    const art = screen.getByRole('article', { name: 'user message' });
    const code = art.querySelector('pre code')!;
    expect(code).toHaveClass('hljs', 'language-python');
    expect(code.querySelector('.hljs-keyword')).toHaveTextContent('def');
    expect(code.textContent).toBe('def f(x):\n    return x\n');
    expect(art.textContent).not.toContain('```');
    expect(art).toHaveTextContent('Why does this fail?');
    expect(art).toHaveTextContent('Thanks');
    expect(within(art).getByText('python')).toBeInTheDocument();
    await userEvent.click(within(art).getByRole('button', { name: 'Copy code' }));
    expect(writeText).toHaveBeenCalledWith('def f(x):\n    return x');
  });

  it("keeps a user's single line breaks and renders their Markdown", () => {
    render(<MessageView message={message({ id: 'a', role: 'user', content: 'first line\nsecond line\n\nnew **paragraph** with `code`' })} />);
    const art = screen.getByRole('article', { name: 'user message' });
    const [p1, p2] = Array.from(art.querySelectorAll('p'));
    expect(p1.innerHTML).toBe('first line<br>\nsecond line');
    expect(within(p2).getByText('paragraph').tagName).toBe('STRONG');
    expect(within(p2).getByText('code').tagName).toBe('CODE');
    expect(art.querySelector('pre')).toBeNull();
  });

  it('shows HTML typed by the user as text and never inserts it', () => {
    const evil = 'Hi <script>window.__pwnedUser = 1</script> <img src=x onerror="window.__pwnedUser = 2"> <b>bold?</b>\n\n<div onclick="x()">block</div>';
    const { container } = render(<MessageView message={message({ id: 'a', role: 'user', content: evil })} />);
    for (const tag of ['script', 'img', 'b', 'div[onclick]', '[onerror]']) expect(container.querySelector(tag)).toBeNull();
    expect(container).toHaveTextContent('<script>window.__pwnedUser = 1</script>');
    expect(container).toHaveTextContent('<img src=x onerror="window.__pwnedUser = 2">');
    expect(container).toHaveTextContent('<div onclick="x()">block</div>');
    expect((window as unknown as { __pwnedUser?: number }).__pwnedUser).toBeUndefined();
  });

  it('renders a pending (optimistic) user message the same way', () => {
    render(<MessageView message={{ ...message({ id: 'p', role: 'user', content: '```\nx = 1\n```' }), pending: true }} />);
    const art = screen.getByRole('article', { name: 'user message' });
    expect(art).toHaveAttribute('data-status', 'sending');
    expect(art.querySelector('pre code')).toHaveTextContent('x = 1');
  });

  it('marks stopped, error and interrupted replies, and a streaming one as busy', () => {
    render(
      <>
        <MessageView message={message({ id: '1', role: 'assistant', content: 'part', status: 'stopped' })} />
        <MessageView message={message({ id: '2', role: 'assistant', content: 'part', status: 'error' })} />
        <MessageView message={message({ id: '3', role: 'assistant', content: 'part', status: 'interrupted' })} />
        <MessageView message={message({ id: '4', role: 'assistant', content: 'so far', status: 'streaming' })} />
        <MessageView message={message({ id: '5', role: 'assistant', content: '', status: 'error' })} />
      </>,
    );
    const [a, b, c, d, e] = screen.getAllByRole('article');
    expect(a).toHaveTextContent('Stopped');
    expect(a).toHaveAttribute('data-status', 'stopped');
    expect(b).toHaveTextContent('Error: the reply failed');
    expect(c).toHaveTextContent('Interrupted');
    expect(d).toHaveAttribute('aria-busy', 'true');
    expect(within(d).getByRole('img', { name: 'Writing…' })).toBeInTheDocument();
    expect(e).toHaveTextContent('No reply could be generated.');
  });

  it('shows which provider and model answered', () => {
    render(<MessageView message={message({ id: '1', role: 'assistant', content: 'x', provider: 'gemini', model: 'gemini-2.5-flash' })} />);
    expect(screen.getByRole('article')).toHaveTextContent('gemini · gemini-2.5-flash');
  });
});
