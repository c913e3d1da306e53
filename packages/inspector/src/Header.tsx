/** The top bar: what this Herald is — mode, engine and its health, auth — at a glance. */
import type { AdminKey } from './admin-key.js';
import type { Stats } from './api.js';
import { formatDuration } from './format.js';

function Logo() {
  return (
    <svg className="logo" viewBox="0 0 32 32" aria-hidden="true">
      <circle cx="9" cy="23" r="3.2" />
      <path d="M9 14a9 9 0 0 1 9 9" />
      <path d="M9 7a16 16 0 0 1 16 16" />
    </svg>
  );
}

export function Header({
  stats,
  locked,
  admin,
}: {
  stats: Stats | undefined;
  locked: boolean;
  admin: AdminKey;
}) {
  return (
    <header className="header">
      <div className="brand">
        <Logo />
        <span className="brand-name">Herald</span>
        <span className="brand-sub">inspector</span>
      </div>
      <div className="pills">
        {stats && (
          <>
            <span className="pill" data-testid="mode">
              {stats.mode === 'dev' ? 'dev mode' : 'production (herald start)'}
            </span>
            <span
              className={`pill ${stats.engine.ok ? 'pill-ok' : 'pill-bad'}`}
              title={stats.engine.detail ?? 'the engine accepts and stores messages'}
              data-testid="engine"
            >
              <span className="dot" />
              {stats.engine.engine} engine{stats.engine.ok ? '' : ': unhealthy'}
            </span>
            <span
              className={`pill ${stats.auth === 'off' ? 'pill-warn' : ''}`}
              title={
                stats.auth === 'off'
                  ? 'No signing key: anyone who can reach this port can publish and mint tokens'
                  : 'Publishing and minting tokens need the signing key'
              }
              data-testid="auth"
            >
              {stats.auth === 'off' ? 'auth off' : 'signing key required'}
            </span>
            <span className="pill pill-quiet">up {formatDuration(stats.uptimeSeconds)}</span>
          </>
        )}
        {locked && <span className="pill pill-warn">locked</span>}
      </div>
      <nav className="links">
        {admin.key !== undefined && (
          <button type="button" className="link-button" onClick={admin.forget}>
            Forget key
          </button>
        )}
        {/* Relative: Herald's own pages sit beside the inspector (under /herald/ in sidecar mode). */}
        <a href="health">health</a>
        <a href="metrics">metrics</a>
      </nav>
    </header>
  );
}
