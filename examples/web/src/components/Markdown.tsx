import { memo } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import remarkBreaks from 'remark-breaks';
import remarkGfm from 'remark-gfm';
import { CodeBlock } from './CodeBlock';

// Model output and what users type are untrusted: no rehype-raw, so any HTML
// in them is shown as text; react-markdown's default urlTransform drops
// javascript: and similar URLs.
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
// A single line break is a <br> (as typed), not a space: for what users write.
const remarkPluginsWithBreaks = [remarkGfm, remarkBreaks];

interface MarkdownProps {
  text: string;
  /** Keep single line breaks (user messages); model output follows CommonMark. */
  breaks?: boolean;
}

export const Markdown = memo(function Markdown({ text, breaks = false }: MarkdownProps) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={breaks ? remarkPluginsWithBreaks : remarkPlugins}
        rehypePlugins={rehypePlugins}
        components={components}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
});
