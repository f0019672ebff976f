// The console: sign-in until a token is accepted, then the pages the signed-in roles may use.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { type ApiError, api, forgetToken, storedToken } from './api';
import { Loading } from './components/Feedback';
import { Layout } from './Layout';
import { SignIn } from './pages/SignIn';
import { type Session, SessionContext } from './session';
import type { Me } from './types';
import { toApiError } from './useLoad';

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(() => storedToken() !== null);
  const [problem, setProblem] = useState<ApiError | undefined>();
  const [notice, setNotice] = useState<string | undefined>();

  // A reload keeps the tab's token: check it is still accepted before showing anything.
  useEffect(() => {
    const token = storedToken();
    if (!token) return;
    api.me(token).then(
      (found) => {
        setMe(found);
        setChecking(false);
      },
      (e) => {
        forgetToken();
        setProblem(toApiError(e));
        setChecking(false);
      },
    );
  }, []);

  const signOut = useCallback((reason?: string) => {
    forgetToken();
    setMe(null);
    setProblem(undefined);
    setNotice(reason ?? 'You are signed out. The token was removed from this tab.');
    window.location.hash = '';
  }, []);

  const session = useMemo<Session | null>(() => (me ? { me, signOut } : null), [me, signOut]);

  if (checking) return <Loading what="your session" />;
  if (!session)
    return (
      <SignIn
        problem={problem}
        notice={notice}
        onSignedIn={(found) => {
          setProblem(undefined);
          setNotice(undefined);
          setMe(found);
        }}
      />
    );
  return (
    <SessionContext.Provider value={session}>
      <Layout />
    </SessionContext.Provider>
  );
}
