/**
 * Scenarios the harness names but does not run yet. Each is a hook: the reason is printed in the
 * table and recorded in the results, so nothing silently goes missing.
 */
import { hardFdLimit } from '../lib/procs.js';

export interface LaterScenario {
  id: string;
  title: string;
  reason: string;
}

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
        fd < 100_200
          ? `later; and this machine caps one process at ${fd} file descriptors (hard RLIMIT_NOFILE; raising it needs CAP_SYS_RESOURCE), so one node cannot hold 100,000 sockets here`
          : 'later',
    },
    {
      // HOOK(sdk): messages/s through subscribe() of @herald/realtime vs @inngest/realtime 0.4.7's
      // client against the same Herald, and both clients' heap growth with an unread stream. Run each
      // client in its own process (like gen/main.ts) so their heaps are measured apart.
      id: 'sdk',
      title: '6. SDK: @herald/realtime vs @inngest/realtime 0.4.7',
      reason: 'later',
    },
    {
      // HOOK(recovery): time to replay 1,000 missed messages on reconnect, memory and Redis engines.
      id: 'recovery',
      title: '7. recovery: replay of 1,000 missed messages',
      reason: 'later',
    },
  ];
}
