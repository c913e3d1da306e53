/** The shape of `bench/results/<timestamp>.json`. */
import type { FanoutResult } from './scenarios/fanout.js';
import type { LatencyResult } from './scenarios/latency.js';
import type { LaterScenario } from './scenarios/later.js';
import type { MemoryResult } from './scenarios/memory.js';
import type { PublishScenarioResult } from './scenarios/publish.js';
import type { RecoveryResult } from './scenarios/recovery.js';
import type { SdkResult } from './scenarios/sdk.js';
import type { TargetId } from './targets.js';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  os: string;
  /** Load average when the run started (others share this machine). */
  loadAverage: number[];
  fdLimit: number;
  commit: string;
  versions: Record<string, string>;
}

interface RunBase {
  target: TargetId;
  /** Identifies the case within the scenario, e.g. `1000` subscribers. */
  case: string;
  ok: boolean;
  error?: string;
  /** Full runs: cores the machine was busy with just before the case started (others' work). */
  busyBefore?: number;
}

export type Run =
  | (RunBase & { scenario: 'fanout'; result?: FanoutResult })
  | (RunBase & { scenario: 'latency'; result?: LatencyResult })
  | (RunBase & { scenario: 'memory'; result?: MemoryResult })
  | (RunBase & { scenario: 'publish'; result?: PublishScenarioResult })
  | (RunBase & { scenario: 'sdk'; result?: SdkResult })
  | (RunBase & { scenario: 'recovery'; result?: RecoveryResult });

export interface Results {
  schema: 1;
  startedAt: string;
  finishedAt: string;
  command: string;
  quick: boolean;
  machine: Machine;
  targets: { id: TargetId; label: string; unavailable?: string }[];
  /** Parameters of each scenario as run. */
  params: Record<string, unknown>;
  runs: Run[];
  later: LaterScenario[];
}
