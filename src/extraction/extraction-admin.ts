import type { StageDeps } from '../decision/stage-deps.js';
import type { AdminAnswer, AdminHandler } from '../observability/admin-server.js';
import { LEVELS } from './action-ladder.js';
import { viewOf, type AccountView, type ModelGuard } from './model-guard.js';
import type { SharedEvidence } from './shared-evidence.js';

const PREFIX = '/extraction/users';

/**
 * `GET /extraction/users` (filters `?model=`, `?level=`), `GET /extraction/users/{user}` and
 * `DELETE /extraction/users/{user}` (`?model=` to clear one model only; logged) on the admin port.
 */
export function extractionAdmin(guards: ReadonlyMap<string, ModelGuard>, shared: ReadonlyMap<string, SharedEvidence>, deps: StageDeps): AdminHandler {
  const all = (filter: (g: ModelGuard) => boolean): AccountView[] => {
    const now = deps.now();
    const out: AccountView[] = [];
    for (const g of guards.values()) {
      if (!filter(g)) continue;
      for (const acc of g.accounts.values()) out.push(viewOf(g, acc, now));
    }
    return out;
  };
  return async ({ method, path, query, peer }): Promise<AdminAnswer> => {
    const model = query.get('model');
    if (model !== null && !guards.has(model)) return { status: 404, body: { error: `extraction is off or unknown for model ${JSON.stringify(model)}`, code: 'model_not_found' } };
    const inModel = (g: ModelGuard) => model === null || g.model === model;
    if (path === PREFIX) {
      if (method !== 'GET' && method !== 'HEAD') return { status: 405, body: { error: 'GET only', code: 'method_not_allowed' } };
      const level = query.get('level');
      if (level !== null && !(LEVELS as readonly string[]).includes(level)) return { status: 400, body: { error: `level must be one of ${LEVELS.join(', ')}`, code: 'invalid_input' } };
      return { status: 200, body: { users: all(inModel).filter((v) => level === null || v.level === level) } };
    }
    // One percent-encoded segment (user ids such as `issuer|subject` contain '/' once decoded).
    const segment = path.slice(PREFIX.length + 1);
    if (segment === '' || segment.includes('/')) return { status: 404, body: { error: 'not found', code: 'route_not_allowed' } };
    let user: string;
    try {
      user = decodeURIComponent(segment);
    } catch {
      return { status: 400, body: { error: 'the user id is not valid percent-encoding', code: 'invalid_path' } };
    }
    if (method === 'GET' || method === 'HEAD') {
      const now = deps.now();
      const models: AccountView[] = [];
      for (const g of guards.values()) {
        const acc = inModel(g) ? g.accounts.get(user) : undefined;
        if (acc) models.push(viewOf(g, acc, now));
      }
      return models.length ? { status: 200, body: { user, models } } : { status: 404, body: { error: 'user not tracked', code: 'model_not_found' } };
    }
    if (method === 'DELETE') {
      const cleared: string[] = [];
      for (const g of guards.values()) {
        if (!inModel(g)) continue;
        if (g.accounts.delete(user)) cleared.push(g.model);
        const s = shared.get(g.model);
        if (s) await s.remove(g.model, user).catch(() => deps.metrics.extractionStoreFallbacks.inc({ operation: 'delete' }));
      }
      deps.log.warn({ user, models: cleared, admin: peer }, 'extraction state cleared by an operator');
      return { status: 200, body: { user, cleared } };
    }
    return { status: 405, body: { error: 'GET or DELETE', code: 'method_not_allowed' } };
  };
}
