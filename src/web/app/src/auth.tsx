// Who is signed in: the session probe at start-up, sign-in, sign-out.
import { createContext, useContext } from 'react';
import type { Principal, Role } from './types.ts';
import { roleAtLeast } from './types.ts';

export interface Auth {
  principal: Principal;
  signOut: () => Promise<void>;
}

export const AuthContext = createContext<Auth | null>(null);

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside a signed-in page');
  return auth;
}

/** Whether the signed-in role may do what needs `min` (the server checks it again). */
export function useCan(): (min: Role) => boolean {
  const { principal } = useAuth();
  return (min) => roleAtLeast(principal.role, min);
}
