/**
 * Scenarios the harness names but does not run. Each is a hook: the reason is printed in the table
 * and recorded in the results, so nothing silently goes missing.
 */
import { hardFdLimit } from '../lib/procs.js';

export interface LaterScenario {
  id: string;
  title: string;
  reason: string;
}

/** Descriptors one node needs for 100,000 connections plus its own (listener, stdio, timers…). */
const SCALE_FDS = 100_200;

export function laterScenarios(): LaterScenario[] {
  const fd = hardFdLimit();
  return [
    {
      // HOOK(scale): ramp to 100,000 subscribed connections on one Herald node and hold a minute
      // with a trickle of messages, all delivered. Reuse SubscriberGroup (it already spreads sockets
      // over generator processes and loopback source addresses) and memory.ts's level loop.
      id: 'scale',
      title: '4. scale: 100,000 connections on one node',
      reason:
        fd < SCALE_FDS
          ? `this machine caps one process at ${fd} file descriptors (hard RLIMIT_NOFILE; raising it needs CAP_SYS_RESOURCE), so one node cannot hold 100,000 sockets here`
          : 'not implemented yet',
    },
  ];
}
