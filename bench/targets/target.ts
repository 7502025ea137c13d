// What the harness needs from every target, whatever runs it (nginx, HAProxy, a Node peer, the gateway).
import type { BenchIdentity } from '../bench-identity.js';

export interface TargetEnv {
  readonly predictorUrl: string;
  readonly identity: BenchIdentity;
  /** A scratch directory for config files and keys. */
  readonly workDir: string;
  /** Set with --profile: gateway targets run with --cpu-prof and write here. */
  readonly profileDir: string | undefined;
}

export interface RunningTarget {
  readonly url: string;
  /** The process whose CPU time and memory are the target's cost (its children included). */
  readonly pid: number;
  stop(): Promise<void>;
}

export type TargetGroup = 'limit' | 'native peer' | 'node peer' | 'gateway';

export interface Target {
  /** Short name for --only and file names. */
  readonly id: string;
  /** Row name in the tables. */
  readonly name: string;
  readonly group: TargetGroup;
  /** Sends the bench's RS256 bearer token (targets that verify it, and the ones they are compared with). */
  readonly authenticates: boolean;
  /** Why the target cannot run in this build, when known before trying (e.g. a feature not in the schema). */
  readonly notBuilt?: string;
  start(env: TargetEnv): Promise<RunningTarget>;
}
