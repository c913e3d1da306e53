/**
 * Asked for instead of the overview when Herald refuses its admin data: `herald start` (or a dev
 * server given a key) needs the signing key for it, as for publishing and minting tokens.
 */
import { type FormEvent, useState } from 'react';
import type { AdminKey } from './admin-key.js';

export function Unlock({ admin }: { admin: AdminKey }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) admin.setKey(value);
  };
  return (
    <main className="unlock">
      <form className="card unlock-card" onSubmit={submit}>
        <h1>This Herald needs its signing key</h1>
        <p>
          With a signing key (always under <code>herald start</code>), connections and channels are private:
          enter the key to see them here, and to publish and mint tokens from this page.
        </p>
        <p className="muted">
          It stays in this browser tab (sessionStorage) and is sent only to this server, as{' '}
          <code>Authorization: Bearer …</code>.
        </p>
        {admin.key !== undefined && (
          <p className="error" role="alert">
            Herald refused that key.
          </p>
        )}
        <div className="row">
          <input
            type="password"
            name="signing-key"
            placeholder="signkey-prod-…"
            autoComplete="off"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            aria-label="Signing key"
          />
          <button type="submit" className="primary">
            Unlock
          </button>
        </div>
      </form>
    </main>
  );
}
