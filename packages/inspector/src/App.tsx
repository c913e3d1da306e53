/**
 * The inspector: what this Herald is (header), what is connected and flowing (overview, channels),
 * a live feed of one channel, and ways to try it (publish, stream, mint a token). In `herald start`
 * the admin data needs the signing key, so the page asks for it first.
 */
import { useAdminKey } from './admin-key.js';
import { ChannelTable } from './ChannelTable.js';
import { Feed } from './Feed.js';
import { Header } from './Header.js';
import { Overview } from './Overview.js';
import { useSelection } from './selection.js';
import { TokenHelper } from './TokenHelper.js';
import { TryIt } from './TryIt.js';
import { Unlock } from './Unlock.js';
import { useStats } from './use-stats.js';

export function App() {
  const admin = useAdminKey();
  const { stats, rates, locked, error } = useStats(admin.key);
  const [selection, select] = useSelection();
  const authOn = stats?.auth === 'signing-key' || admin.key !== undefined;

  return (
    <div className="app">
      <Header stats={stats} locked={locked} admin={admin} />
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      {locked ? (
        <Unlock admin={admin} />
      ) : (
        <main>
          <Overview stats={stats} rates={rates} />
          <div className="columns">
            <div className="column">
              <ChannelTable stats={stats} rates={rates} selection={selection} onSelect={select} />
              <TryIt selection={selection} adminKey={admin.key} />
              <TokenHelper selection={selection} adminKey={admin.key} authOn={authOn} />
            </div>
            <div className="column column-feed">
              <Feed selection={selection} adminKey={admin.key} onSelect={select} />
            </div>
          </div>
        </main>
      )}
    </div>
  );
}
