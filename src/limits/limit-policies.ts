import type { GatewayConfig } from '../config/schema.js';
import type { Verb } from '../inference/kserve-route.js';
import { windowGroup, type WindowGroup } from './window-group.js';

interface ModelPolicy {
  readonly byTier: ReadonlyMap<string, WindowGroup>;
  readonly fallback: WindowGroup;
  readonly metadata: WindowGroup;
}

const EMPTY: WindowGroup = windowGroup('', []);
type Windows = ReadonlyArray<{ name: string; predictions: number; perSeconds: number }>;

/**
 * Every model's window groups, merged (model over global) at start-up. A group's id names its
 * counters: the global lists count per identity across every model under `limits.scope: user`
 * (one id shared by all models) and per model under `model`; a model's own lists always count
 * that model alone.
 */
export class LimitPolicies {
  private readonly byModel = new Map<string, ModelPolicy>();

  constructor(config: GatewayConfig) {
    const g = config.limits;
    const groups = new Map<string, WindowGroup>();
    const group = (id: string, windows: Windows): WindowGroup => {
      if (windows.length === 0) return EMPTY;
      let found = groups.get(id);
      if (!found) {
        found = windowGroup(id, windows);
        groups.set(id, found);
      }
      return found;
    };
    for (const [name, model] of Object.entries(config.models)) {
      const own = model.limits;
      const globalScope = g.scope === 'user' ? '*' : `m:${name}`;
      const scopeOf = (ownList: unknown) => (ownList !== undefined ? `m:${name}:own` : globalScope);
      const tiers = own?.tiers ?? g.tiers;
      this.byModel.set(name, {
        byTier: new Map(
          Object.entries(tiers).map(([tier, w]) => [tier, group(`${scopeOf(own?.tiers)}:tier:${tier}`, w)]),
        ),
        fallback: group(`${scopeOf(own?.default)}:default`, own?.default ?? g.default),
        metadata: group(`${scopeOf(own?.metadata)}:metadata`, own?.metadata ?? g.metadata),
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

  windowsFor(model: string, verb: Verb, tier: string | undefined): WindowGroup {
    const p = this.byModel.get(model);
    if (!p || verb === 'ready') return EMPTY;
    if (verb === 'metadata') return p.metadata;
    return (tier !== undefined ? p.byTier.get(tier) : undefined) ?? p.fallback;
  }
}
