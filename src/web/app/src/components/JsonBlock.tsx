// JSON an operator reads and passes on (a run's input, a step's output): collapsed behind its
// title, with a Copy button that says whether the copy worked.
import { useState } from 'react';
import { JsonView } from './ui.tsx';

export function JsonBlock({ title, value, open }: { title: string; value: unknown; open?: boolean }) {
  const [copied, setCopied] = useState<'' | 'ok' | 'failed'>('');
  const text = JSON.stringify(value, null, 2);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('ok');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <details className="json-block" open={open}>
      <summary>{title}</summary>
      <div className="json-tools">
        <button type="button" className="small" onClick={() => void copy()} aria-label={`Copy ${title}`}>
          Copy
        </button>
        <span role="status" className="small muted">
          {copied === 'ok' ? 'Copied.' : copied === 'failed' ? 'The browser refused the copy: select the text.' : ''}
        </span>
      </div>
      <JsonView value={value} label={title} />
    </details>
  );
}
