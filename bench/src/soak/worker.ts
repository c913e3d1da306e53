/**
 * A soak worker process, driven by the runner over IPC: either a fleet of subscribers (connect,
 * churn, snapshot, verify) or the publisher (publish, snapshot). Each worker has its own
 * file-descriptor limit and its own core time. It exits when the runner goes away.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { Fleet } from './fleet.js';
import type {
  ChurnRequest,
  Done,
  FleetConnected,
  FleetConnectRequest,
  FleetProgress,
  FleetSnapshot,
  FleetSnapshotRequest,
  Published,
  PublisherSnapshot,
  PublisherSnapshotRequest,
  PublishRequest,
  Verified,
  VerifyRequest,
} from './ipc.js';
import { AckedPublisher } from './publisher.js';
import { audit, onLatency } from './subscriber.js';

/** Latencies up to one minute, in microseconds, 3 significant digits. */
const newHistogram = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });

let histogram = newHistogram();
onLatency((micros) => histogram.recordValue(Math.min(micros, 60_000_000)));
const LOOP_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loopDelay.enable();

let fleet: Fleet | undefined;
let publisher: AckedPublisher | undefined;

const send = (m: unknown): void => {
  process.send?.(m);
};

function fail(what: string, e: unknown): never {
  process.stderr.write(`soak worker: ${what} failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
}

async function connectFleet(req: FleetConnectRequest & { id: number }): Promise<FleetConnected> {
  const started = performance.now();
  fleet = new Fleet(req.options);
  const r = await fleet.connectAll((connected, failed) => {
    const m: FleetProgress = { type: 'fleet-progress', connected, failed };
    send(m);
  });
  return { type: 'fleet-connected', id: req.id, ...r, ms: performance.now() - started };
}

function snapshot(req: FleetSnapshotRequest & { id: number }): FleetSnapshot {
  if (fleet === undefined) throw new Error('no fleet');
  const { closes, examples, ...counts } = audit;
  const out: FleetSnapshot = {
    type: 'fleet-snapshot',
    id: req.id,
    fleet: fleet.status(),
    audit: counts,
    closes: Object.fromEntries(closes),
    examples,
    loopDelayP99Ms: Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
  };
  if (req.histogram) {
    out.histogram = hdr.encodeIntoCompressedBase64(histogram);
    histogram = newHistogram();
    loopDelay.reset();
  }
  return out;
}

type Incoming = (
  | FleetConnectRequest
  | ChurnRequest
  | FleetSnapshotRequest
  | VerifyRequest
  | PublishRequest
  | PublisherSnapshotRequest
) & { id: number };

process.on('message', (m: Incoming) => {
  try {
    switch (m.type) {
      case 'fleet-connect':
        connectFleet(m).then(send, (e) => fail('connect', e));
        break;
      case 'churn': {
        fleet?.churn(m.percent);
        const done: Done = { type: 'done', id: m.id };
        send(done);
        break;
      }
      case 'fleet-snapshot':
        send(snapshot(m));
        break;
      case 'verify': {
        if (fleet === undefined) throw new Error('no fleet');
        const v: Verified = { type: 'verified', id: m.id, result: fleet.verify(m.finals) };
        send(v);
        break;
      }
      case 'soak-publish': {
        const p = new AckedPublisher(m.options);
        publisher = p;
        p.run().then(
          () => {
            const out: Published = { type: 'soak-published', id: m.id, counts: p.counts, finals: p.finals };
            send(out);
          },
          (e) => fail('publish', e),
        );
        break;
      }
      case 'pub-snapshot': {
        if (publisher === undefined) throw new Error('no publisher');
        const out: PublisherSnapshot = {
          type: 'pub-snapshot',
          id: m.id,
          counts: publisher.counts,
          outstanding: publisher.outstanding,
        };
        send(out);
        break;
      }
    }
  } catch (e) {
    fail(m.type, e);
  }
});

// The runner is gone (or done with us): close everything and leave.
process.on('disconnect', () => {
  fleet?.close();
  process.exit(0);
});
