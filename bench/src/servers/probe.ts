/**
 * Preloaded into every server under test (`node --expose-gc --import …/probe.js`): answers the
 * orchestrator's memory questions over the IPC channel (after a full GC when asked), and stops the
 * server (SIGTERM, so it shuts down normally and `--cpu-prof` is written) when the orchestrator
 * goes away. It adds nothing to the server's hot paths.
 */
import type { MemRequest } from '../lib/ipc.js';

if (process.send !== undefined) {
  process.on('message', (m: MemRequest) => {
    if (m?.type !== 'mem') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (m.gc && gc) {
      gc();
      gc();
    }
    const u = process.memoryUsage();
    process.send?.({
      type: 'mem',
      id: m.id,
      rss: u.rss,
      heapUsed: u.heapUsed,
      heapTotal: u.heapTotal,
      external: u.external,
      arrayBuffers: u.arrayBuffers,
    });
  });
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  // The channel must not keep a server alive that would otherwise exit.
  process.channel?.unref();
}
