import type { GatewayConfig } from '../config/schema.js';
import type { Verb } from '../inference/kserve-route.js';
import type { CounterStore, WindowCounter } from './counter-store.js';
import { rateLimitPolicy, type WindowDescription } from './rate-limit-headers.js';

export interface LimitWindow extends WindowDescription {
  readonly counter: WindowCounter;
}

/** The windows that apply to one request, with their RateLimit-Policy header computed once. */
export interface WindowSet {
  readonly windows: readonly LimitWindow[];
  readonly policyHeader: string;
}

interface ModelPolicy {
  readonly byTier: ReadonlyMap<string, WindowSet>;
  readonly fallback: WindowSet;
  readonly metadata: WindowSet;
}

const EMPTY: WindowSet = { windows: [], policyHeader: '' };
type Windows = ReadonlyArray<{ name: string; predictions: number; perSeconds: number }>;

/** Every model's windows, merged (model over global) and given their counters at start-up. */
export class LimitPolicies {
  private readonly byModel = new Map<string, ModelPolicy>();

  constructor(config: GatewayConfig, store: CounterStore) {
    const g = config.limits;
    const set = (scope: string, windows: Windows): WindowSet =>
      windows.length === 0
        ? EMPTY
        : {
            windows: windows.map((w) => ({ ...w, counter: store.counter(`${scope}:${w.name}:`, w.predictions, w.perSeconds) })),
            policyHeader: rateLimitPolicy(windows),
          };
    for (const [name, model] of Object.entries(config.models)) {
      const own = model.limits;
      const tiers = own?.tiers ?? g.tiers;
      this.byModel.set(name, {
        byTier: new Map(Object.entries(tiers).map(([tier, w]) => [tier, set(`${name}:tier:${tier}`, w)])),
        fallback: set(`${name}:default`, own?.default ?? g.default),
        metadata: set(`${name}:metadata`, own?.metadata ?? g.metadata),
      });
    }
  }

  /** True when some model has a window: otherwise no stage (and no store) is needed at all. */
  static configured(config: GatewayConfig): boolean {
    const g = config.limits;
    const has = (w: Windows | undefined) => (w?.length ?? 0) > 0;
    const tiersHave = (t: Readonly<Record<string, Windows>> | undefined) => Object.values(t ?? {}).some(has);
    return Object.values(config.models).some((m) => {
      const own = m.limits;
      return has(own?.default ?? g.default) || has(own?.metadata ?? g.metadata) || tiersHave(own?.tiers ?? g.tiers);
    });
  }

  windowsFor(model: string, verb: Verb, tier: string | undefined): WindowSet {
    const p = this.byModel.get(model);
    if (!p || verb === 'ready') return EMPTY;
    if (verb === 'metadata') return p.metadata;
    return (tier !== undefined ? p.byTier.get(tier) : undefined) ?? p.fallback;
  }
}
