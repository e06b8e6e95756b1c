import { memo } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import remarkGfm from 'remark-gfm';
import { CodeBlock } from './CodeBlock';

// Model output is untrusted: no rehype-raw, so any HTML in it is shown as
// text; react-markdown's default urlTransform drops javascript: and similar URLs.
const components: Components = {
  pre: ({ node, children }) => <CodeBlock node={node as never}>{children}</CodeBlock>,
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow">
      {children}
    </a>
  ),
  // No remote images from model output (tracking pixels, spoofed UI): show a link instead.
  img: ({ src, alt }) =>
    typeof src === 'string' && src ? (
      <a href={src} target="_blank" rel="noopener noreferrer nofollow">
        {alt ? `[image: ${alt}]` : '[image]'}
      </a>
    ) : (
      <span>{alt ? `[image: ${alt}]` : '[image]'}</span>
    ),
};

const rehypePlugins: NonNullable<Parameters<typeof ReactMarkdown>[0]['rehypePlugins']> = [
  [rehypeHighlight, { detect: false }],
];
const remarkPlugins = [remarkGfm];

export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
