/**
 * The signing key the user typed in, when Herald needs one for its admin data (`herald start`, or a
 * dev server given a key). Kept in sessionStorage: it survives a reload of this tab but not the
 * tab, and never reaches localStorage or a cookie.
 */
import { useCallback, useState } from 'react';

const STORAGE_KEY = 'herald-inspector:signing-key';

function stored(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: the key lives in memory only
  }
}

export interface AdminKey {
  key: string | undefined;
  setKey(key: string): void;
  forget(): void;
}

export function useAdminKey(): AdminKey {
  const [key, setState] = useState(stored);
  const setKey = useCallback((next: string) => {
    const value = next.trim();
    try {
      sessionStorage.setItem(STORAGE_KEY, value);
    } catch {
      // Memory only.
    }
    setState(value);
  }, []);
  const forget = useCallback(() => {
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing stored.
    }
    setState(undefined);
  }, []);
  return { key, setKey, forget };
}
