/**
 * Prometheus metrics (`GET /metrics`), via prom-client. Hot-path counts are plain numbers bumped by
 * the hub and connections, read when Prometheus scrapes, so delivering a message costs an addition,
 * not a metric lookup.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Hub } from './hub/hub.js';

export class Counts {
  delivered = 0;
  deliveredBytes = 0;
  slowConsumers = 0;
  pongTimeouts = 0;
  invalidClientFrames = 0;
  /** WebSockets closed with 4029 for sending frames faster than `--max-client-frames`. */
  clientFrameRateCloses = 0;
  /** Sidecar mode: HTTP requests and WebSocket upgrades forwarded to the upstream. */
  upstreamRequests = 0;
  upstreamWebSockets = 0;
}

function counter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export class Metrics {
  readonly registry = new Registry();
  readonly counts = new Counts();
  readonly published: Counter<'kind'>;
  readonly publishSeconds: Histogram<'kind'>;
  readonly httpErrors: Counter<'route' | 'status'>;
  /** Refusals at a configured limit (rare, so a labelled counter is fine). */
  readonly limitRefusals: Counter<'limit'>;

  constructor(hub: Hub, engineName: string) {
    const r = this.registry;
    collectDefaultMetrics({ register: r, prefix: 'herald_' });
    new Gauge({
      name: 'herald_connections',
      help: 'Open subscriber connections',
      labelNames: ['transport'],
      registers: [r],
      collect() {
        let ws = 0;
        let sse = 0;
        for (const c of hub.connections) c.transport === 'ws' ? ws++ : sse++;
        this.set({ transport: 'ws' }, ws);
        this.set({ transport: 'sse' }, sse);
      },
    });
    new Gauge({
      name: 'herald_subscriptions',
      help: 'Topic subscriptions across all connections',
      registers: [r],
      collect() {
        this.set(hub.stats().subscriptions);
      },
    });
    new Gauge({
      name: 'herald_channels_subscribed',
      help: 'Channels with at least one local subscriber',
      registers: [r],
      collect() {
        this.set(hub.stats().channels);
      },
    });
    new Gauge({
      name: 'herald_engine_info',
      help: 'The engine in use',
      labelNames: ['engine'],
      registers: [r],
    }).set({ engine: engineName }, 1);
    const c = this.counts;
    counter(
      r,
      'herald_messages_delivered_total',
      'Messages written to subscriber connections',
      () => c.delivered,
    );
    counter(
      r,
      'herald_bytes_delivered_total',
      'Bytes written to subscriber connections',
      () => c.deliveredBytes,
    );
    counter(
      r,
      'herald_slow_consumer_disconnects_total',
      'Connections closed with 4008 because their send queue overflowed',
      () => c.slowConsumers,
    );
    counter(
      r,
      'herald_pong_timeouts_total',
      'WebSocket connections closed because no pong came back',
      () => c.pongTimeouts,
    );
    counter(
      r,
      'herald_client_frames_invalid_total',
      'Client WebSocket frames that were ignored as malformed',
      () => c.invalidClientFrames,
    );
    counter(
      r,
      'herald_client_frame_rate_closes_total',
      'WebSocket connections closed with 4029 for sending frames faster than --max-client-frames',
      () => c.clientFrameRateCloses,
    );
    counter(
      r,
      'herald_upstream_requests_total',
      'Sidecar mode: HTTP requests forwarded to the Inngest server (--inngest-upstream)',
      () => c.upstreamRequests,
    );
    counter(
      r,
      'herald_upstream_websockets_total',
      'Sidecar mode: WebSocket upgrades forwarded to the Inngest server (--inngest-upstream)',
      () => c.upstreamWebSockets,
    );
    this.published = new Counter({
      name: 'herald_messages_published_total',
      help: 'Messages accepted by the engine',
      labelNames: ['kind'],
      registers: [r],
    });
    this.publishSeconds = new Histogram({
      name: 'herald_publish_duration_seconds',
      help: 'Time for the engine to accept a message',
      labelNames: ['kind'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [r],
    });
    this.limitRefusals = new Counter({
      name: 'herald_limit_refusals_total',
      help: 'Requests, connections and frames refused at a configured limit',
      labelNames: ['limit'],
      registers: [r],
    });
    this.httpErrors = new Counter({
      name: 'herald_http_errors_total',
      help: 'HTTP requests answered with an error',
      labelNames: ['route', 'status'],
      registers: [r],
    });
  }
}
