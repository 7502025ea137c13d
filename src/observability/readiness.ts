/**
 * A check's answer. `degraded` reports a dependency that is down while this replica still serves
 * under its configured failure policy: shown in /readyz's body, never failing the probe by itself.
 */
export interface CheckResult {
  readonly ready: boolean;
  readonly degraded?: boolean;
  readonly detail?: string;
}

/** A named readiness condition; /readyz is ready only when all pass. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<CheckResult>;
}

export class Readiness {
  private readonly checks: ReadinessCheck[] = [];
  private draining = false;

  add(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  /** Once draining (SIGTERM), readiness fails so the endpoint is taken out of rotation. */
  startDraining(): void {
    this.draining = true;
  }

  async evaluate(): Promise<{ ready: boolean; degraded: boolean; checks: Record<string, CheckResult> }> {
    const results: Record<string, CheckResult> = {};
    if (this.draining) results['draining'] = { ready: false, detail: 'shutting down' };
    await Promise.all(
      this.checks.map(async (c) => {
        try {
          results[c.name] = await c.check();
        } catch (err) {
          results[c.name] = { ready: false, detail: (err as Error).message };
        }
      }),
    );
    const all = Object.values(results);
    return { ready: all.every((r) => r.ready), degraded: all.some((r) => r.degraded === true), checks: results };
  }
}
