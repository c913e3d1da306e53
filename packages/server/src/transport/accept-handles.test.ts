import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type AcceptHandles, addAcceptHandles } from './accept-handles.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen(): Promise<Server> {
  const server = createServer((_req, res) => res.end('ok'));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/** Opens `n` connections that each send one request; counts the answers while the loop is kept busy. */
async function answeredWhileBusy(server: Server, n: number, turnsWanted: number): Promise<number> {
  const port = (server.address() as AddressInfo).port;
  let answered = 0;
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    s.once('data', () => answered++);
    sockets.push(s);
  }
  // Each turn of the event loop burns 10 ms, like a node saturated by deliveries; the listening
  // socket has far more connections waiting than turns go by.
  await new Promise<void>((resolve) => {
    let turns = 0;
    const turn = () => {
      const until = Date.now() + 10;
      while (Date.now() < until);
      if (++turns < turnsWanted) setImmediate(turn);
      else resolve();
    };
    setImmediate(turn);
  });
  for (const s of sockets) s.destroy();
  return answered;
}

describe('addAcceptHandles', () => {
  it('accepts on every copy: about one connection per descriptor per turn of a busy loop', async () => {
    const one = await listen();
    const answeredOne = await answeredWhileBusy(one, 300, 40);

    const four = await listen();
    const handles = await addAcceptHandles(four, 4, (err) => {
      throw err;
    });
    expect(handles.count).toBe(4);
    const answeredFour = await answeredWhileBusy(four, 300, 40);
    await handles.close();

    // Node 20 accepts one per descriptor per turn (answeredOne ≈ 40); four descriptors take about
    // four times as many. The ratio, not a rate, so a slow machine does not change the outcome.
    expect(answeredFour).toBeGreaterThan(2 * answeredOne);
  });

  it('hands what the copies accept to the HTTP server, which tracks and closes those connections', async () => {
    const server = await listen();
    const handles: AcceptHandles = await addAcceptHandles(server, 3, (err) => {
      throw err;
    });
    const port = (server.address() as AddressInfo).port;
    // Raw sockets that connect together: each turn every descriptor accepts one, so most of them
    // arrive through the copies.
    const sockets = Array.from({ length: 30 }, () => connect(port, '127.0.0.1'));
    const answers = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<string>((resolve, reject) => {
            s.on('error', reject);
            s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
            s.once('data', (d) => resolve(d.toString()));
          }),
      ),
    );
    expect(answers.every((a) => a.startsWith('HTTP/1.1 200') && a.endsWith('ok'))).toBe(true);
    // The sockets stay open (keep-alive). The copies' close resolves once their connections end,
    // and the HTTP server can end them: it tracks them as its own.
    const gone = Promise.all(sockets.map((s) => new Promise((r) => s.once('close', r))));
    const closing = handles.close();
    server.close();
    server.closeAllConnections();
    await Promise.all([closing, gone]);
  });

  it('loses no request that arrives while the helper holds the listening socket', async () => {
    const server = await listen();
    const port = (server.address() as AddressInfo).port;
    // One request on a fresh connection, sent at once: true when answered, false if it hangs.
    const requestOnce = () =>
      new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1');
        const timer = setTimeout(() => {
          s.destroy();
          resolve(false);
        }, 5_000);
        s.on('error', () => {});
        s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        s.once('data', () => {
          clearTimeout(timer);
          s.destroy();
          resolve(true);
        });
      });
    // Connections keep arriving during the whole handover, so the helper accepts some of them.
    let handing = true;
    const answers: Promise<boolean>[] = [];
    const pump = (async () => {
      while (handing) {
        answers.push(requestOnce());
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const handles = await addAcceptHandles(server, 4, (err) => {
      throw err;
    });
    handing = false;
    await pump;
    const results = await Promise.all(answers);
    expect(results.length).toBeGreaterThan(10);
    expect(results.filter((ok) => !ok)).toEqual([]);
    await handles.close();
  });

  it('with a count of 1 adds nothing and starts no helper', async () => {
    const server = await listen();
    const handles = await addAcceptHandles(server, 1, (err) => {
      throw err;
    });
    expect(handles.count).toBe(1);
    await handles.close();
  });
});
