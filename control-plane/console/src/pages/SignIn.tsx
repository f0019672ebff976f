// Sign in with the same API token curl uses: checked with GET /api/v1/me, then kept in this tab only.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { type ApiError, api, storeToken } from '../api';
import { ErrorPanel } from '../components/Feedback';
import type { Me } from '../types';
import { toApiError } from '../useLoad';

export function SignIn({ problem, notice, onSignedIn }: { problem?: ApiError; notice?: string; onSignedIn: (me: Me) => void }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(problem);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in · FHIR mesh console';
    input.current?.focus();
  }, []);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    const value = token.trim();
    if (!value) return;
    setBusy(true);
    try {
      const me = await api.me(value);
      storeToken(value);
      onSignedIn(me);
    } catch (e) {
      setError(toApiError(e));
      setBusy(false);
      input.current?.select();
    }
  }

  return (
    <main id="main" className="sign-in">
      <h1>Sign in to the FHIR mesh console</h1>
      {notice && <p role="status">{notice}</p>}
      <form onSubmit={submit}>
        <label htmlFor="token">API token</label>
        <p id="token-hint" className="hint">
          Paste your control-plane API token (the ops token is in .mesh/run/ops-token). It stays in this browser tab only and is forgotten when you sign out or
          close the tab.
        </p>
        <input
          ref={input}
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          aria-describedby="token-hint"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
      {error && <ErrorPanel error={error} title={signInTitle(error)} advice={error.status === 401 ? REJECTED_ADVICE : undefined} />}
    </main>
  );
}

const REJECTED_ADVICE =
  'Check that you pasted the whole token. A token stops working when it is rotated or its consumer is removed: ask platform ops for a new one (POST /api/v1/consumers/<name>/token).';

function signInTitle(error: ApiError): string {
  if (error.status === 401) return 'That token was not accepted';
  if (error.status === 0) return 'The control plane is unreachable';
  return `Sign-in failed: ${error.status} ${error.error}`;
}
