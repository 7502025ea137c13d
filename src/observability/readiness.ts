/** A named readiness condition; /readyz is ready only when all pass. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<{ ready: boolean; detail?: string }>;
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

  async evaluate(): Promise<{ ready: boolean; checks: Record<string, { ready: boolean; detail?: string }> }> {
    const results: Record<string, { ready: boolean; detail?: string }> = {};
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
    return { ready: Object.values(results).every((r) => r.ready), checks: results };
  }
}
