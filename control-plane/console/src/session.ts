// Who is signed in, for role-aware navigation; the API still checks every call itself.
import { createContext, useContext } from 'react';
import type { Me, Role } from './types';

export interface Session {
  me: Me;
  signOut: (reason?: string) => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

export function hasRole(me: Me, ...roles: Role[]): boolean {
  return me.roles.some((r) => roles.includes(r));
}

export type PageId = 'domains' | 'products' | 'consumers' | 'budgets' | 'queries' | 'audit' | 'metrics';

export const PAGES: { id: PageId; label: string; roles: Role[] }[] = [
  { id: 'domains', label: 'Domains', roles: ['ops', 'data-product-owner'] },
  { id: 'products', label: 'Data products', roles: ['ops', 'data-product-owner', 'analyst', 'researcher'] },
  { id: 'consumers', label: 'Consumers', roles: ['ops'] },
  { id: 'budgets', label: 'Budgets', roles: ['ops'] },
  { id: 'queries', label: 'Queries', roles: ['ops'] },
  { id: 'audit', label: 'Audit', roles: ['ops'] },
  { id: 'metrics', label: 'Metrics', roles: ['ops'] },
];

export function pagesFor(me: Me): typeof PAGES {
  return PAGES.filter((p) => hasRole(me, ...p.roles));
}
