// The layer-4 check as a start-up condition: the gateway hashes the model directory once, in the
// background, and reports not ready until it verifies. A failure is final for this process (the
// files on a read-only volume will not heal): the pod stays out of rotation and the log names
// every path. It runs in the gateway container rather than an init container because KServe
// appends its storage initializer after the pod's declared init containers (see deploy/README.md).

import type { GatewayConfig } from '../config/schema.js';
import { deny } from '../decision/denial.js';
import type { Stage } from '../decision/stage.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { ReadinessCheck } from '../observability/readiness.js';
import { verifyModel, type VerifyModelResult } from './verify-model.js';

export interface StartupVerification {
  readonly readiness: ReadinessCheck;
  /**
   * Refuses every model route (503 `model_unverified`) until the model verified, in every door:
   * /readyz keeps the pod out of a Service's endpoints, but not from a client that reaches the
   * pod directly, nor from Envoy checks sent while the result is not in.
   */
  readonly stage: Stage;
  /** Settles when the check is over (tests and shutdown wait on it). */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

type Settings = GatewayConfig['modelVerification'];

const STATES = ['verifying', 'verified', 'failed'] as const;

export function startModelVerification(settings: Settings, metrics: GatewayMetrics, log: Logger): StartupVerification {
  // The state gauge keeps alerting for as long as a pod stays refused, unlike a counter's increase.
  const setState = (current: (typeof STATES)[number]) => {
    for (const state of STATES) metrics.modelVerificationState.set({ state }, state === current ? 1 : 0);
  };
  setState('verifying');
  const abort = new AbortController();
  let state: { ready: boolean; detail: string } = {
    ready: false,
    detail: `verifying ${settings.dir} against ${settings.manifest}`,
  };
  let finished = false;
  const started = Date.now();
  const done = verifyModel({
    dir: settings.dir,
    manifest: settings.manifest!,
    ...(settings.publicKey ? { publicKey: settings.publicKey } : {}),
    ...(settings.signature ? { signature: settings.signature } : {}),
    signal: abort.signal,
  }).then(
    (r: VerifyModelResult) => {
      metrics.modelVerifications.inc({ outcome: r.ok ? 'verified' : 'failed' });
      const summary = {
        dir: settings.dir,
        manifest: settings.manifest,
        files: r.files,
        bytes: r.bytes,
        signed: r.signed,
        ms: Date.now() - started,
      };
      setState(r.ok ? 'verified' : 'failed');
      finished = true;
      if (r.ok) {
        state = { ready: true, detail: `${r.files} files verified` };
        log.info(summary, 'model verified against its manifest');
        return;
      }
      for (const p of r.problems) metrics.modelVerificationProblems.inc({ kind: p.kind });
      state = {
        ready: false,
        detail: `model verification failed: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} (see the log)`,
      };
      log.error(
        {
          ...summary,
          problems: r.problems.map((p) => ({
            kind: p.kind,
            ...(p.path !== undefined ? { path: p.path } : {}),
            message: p.message,
          })),
        },
        'model verification FAILED: refusing to become ready',
      );
    },
    (err: unknown) => {
      if (abort.signal.aborted) return;
      metrics.modelVerifications.inc({ outcome: 'failed' });
      setState('failed');
      finished = true;
      state = { ready: false, detail: 'model verification failed (see the log)' };
      log.error(
        { dir: settings.dir, err: (err as Error).message },
        'model verification FAILED: refusing to become ready',
      );
    },
  );
  const verifying = deny(
    'model_unverified',
    'the model files are still being verified against their manifest; retry shortly',
    { retryAfterSeconds: 5 },
  );
  const failed = deny(
    'model_unverified',
    'the model files failed verification against their manifest: this replica serves no predictions',
  );
  const stage: Stage = {
    name: 'verification',
    run: () => (state.ready ? undefined : finished ? failed : verifying),
  };
  return {
    readiness: { name: 'model-artifacts', check: async () => state },
    stage,
    done,
    async close() {
      abort.abort();
      await done;
    },
  };
}
