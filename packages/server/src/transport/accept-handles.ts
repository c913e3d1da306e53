/**
 * More than one accept per event-loop turn. Node 20's libuv accepts one connection each time the
 * listening descriptor is reported ready, that is once per turn of the event loop (measured: a loop
 * busy 20 ms per turn accepts 50 connections a second, with a full backlog waiting). A node that
 * is saturated by deliveries makes few turns, and clients reconnecting to it time out in the
 * kernel's queue: a soak with 200 reconnects/s starved at about that rate.
 *
 * Every descriptor on the listening socket is reported on its own, so each extra descriptor adds
 * one accept per turn. Node has no `dup`, but passing a handle to another process creates a new
 * descriptor for it (SCM_RIGHTS): a short-lived child receives the server's listening handle and
 * sends it back `count - 1` times. Each copy listens with a plain `net.Server` whose connections are
 * handed to the HTTP server, as if it had accepted them itself. (Node ≥ 22.12 has `reusePort`,
 * which serves the same end with several sockets.)
 */
import { spawn } from 'node:child_process';
import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';

/**
 * The helper, run with `node -e` (so it works from sources and from the build alike): it receives
 * the listening handle, sends it back N times, stops accepting and says `done`. While it holds the
 * handle it may accept a connection itself: that one is not read here (`pauseOnConnect`: its
 * request stays in the kernel for the parent's HTTP server) and is sent to the parent before `done`,
 * so the parent, which lets the helper go only at `done`, gets every one of them.
 */
const CHILD = `
const wanted = Number(process.argv[1]);
process.once('message', (m, server) => {
  if (m !== 'listening-handle' || !server) process.exit(1);
  server.pauseOnConnect = true;
  server.on('connection', (socket) => process.send('connection', socket));
  let sent = 0;
  const next = () => process.send('accept-handle', server, undefined, (err) => {
    if (err) process.exit(1);
    if (++sent < wanted) return next();
    server.close();
    process.send('done');
  });
  next();
  process.once('disconnect', () => process.exit(0));
});
`;

/** How long the child may take to hand the copies back before Herald goes on without them. */
const CHILD_TIMEOUT_MS = 5_000;

export interface AcceptHandles {
  /** Descriptors accepting on the listening socket, the server's own included. */
  readonly count: number;
  /** Stops accepting on the copies; resolves once the connections they accepted have ended. */
  close(): Promise<void>;
}

/**
 * Adds `count - 1` accepting copies of `server`'s listening handle. Resolves with what it got:
 * fewer (or none) if the child failed, which `onError` hears about; Herald works either way.
 */
export async function addAcceptHandles(
  server: HttpServer,
  count: number,
  onError: (err: Error) => void,
): Promise<AcceptHandles> {
  const copies = count > 1 ? await copiesOf(server, count - 1, onError) : [];
  return {
    count: 1 + copies.length,
    close: () =>
      Promise.all(copies.map((c) => new Promise<void>((resolve) => c.close(() => resolve())))).then(
        () => undefined,
      ),
  };
}

function copiesOf(server: HttpServer, wanted: number, onError: (err: Error) => void): Promise<NetServer[]> {
  return new Promise((resolve) => {
    const copies: NetServer[] = [];
    let settled = false;
    // No execArgv of the parent: the child only echoes a handle (no inspector port, no preloads).
    const child = spawn(process.execPath, ['-e', CHILD, String(wanted)], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
    });
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) onError(err);
      if (child.connected) child.disconnect();
      resolve(copies);
    };
    const timer = setTimeout(
      () =>
        finish(new Error(`accept handles: the helper process sent ${copies.length} of ${wanted} in time`)),
      CHILD_TIMEOUT_MS,
    );
    child.on('message', (m: unknown, handle: unknown) => {
      if (m === 'accept-handle' && handle) {
        const copy = handle as NetServer;
        if (settled) {
          copy.close();
          return;
        }
        // A copy listens from the moment it arrives: what it accepts goes to the HTTP server at once.
        copy.on('connection', (socket: Socket) => server.emit('connection', socket));
        copy.on('error', onError);
        copies.push(copy);
      } else if (m === 'done') {
        finish(
          copies.length === wanted
            ? undefined
            : new Error(`accept handles: got ${copies.length} of ${wanted}`),
        );
      } else if (m === 'connection' && handle) {
        // A connection the child accepted while it held the handle: the server takes it over.
        server.emit('connection', handle as Socket);
      }
    });
    child.on('error', (err) => finish(err));
    child.on('exit', (code) =>
      finish(
        copies.length < wanted
          ? new Error(`accept handles: the helper process exited with ${code}`)
          : undefined,
      ),
    );
    child.send('listening-handle', server, (err) => {
      if (err) finish(err);
    });
  });
}
