// What a page shows while it waits, when it fails, and when there is nothing yet: each says what to do.
import type { ReactNode } from 'react';
import type { ApiError } from '../api';

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

export function ErrorPanel({ error, title, advice }: { error: ApiError; title?: string; advice?: string }) {
  return (
    <div className="panel panel-error" role="alert">
      <h2>{title ?? (error.status === 0 ? 'The control plane is unreachable' : `Refused: ${error.status} ${error.error}`)}</h2>
      <p className="message">{error.detail}</p>
      <p>
        <strong>What to do:</strong> {advice ?? error.advice}
      </p>
    </div>
  );
}

export function Empty({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="panel panel-empty">
      <h2>{title}</h2>
      <p>{children}</p>
    </div>
  );
}
