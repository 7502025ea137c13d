import type { StageDeps } from '../decision/stage-deps.js';
import type { AdminAnswer, AdminHandler, AdminRequest } from '../observability/admin-server.js';
import type { AccountOverride, OverrideKind } from '../operator/account-overrides.js';
import type { AuditAction } from '../operator/audit-log.js';
import type { OperatorPlane } from '../operator/operator-plane.js';
import { LEVELS, type Level } from './action-ladder.js';
import { viewOf, type AccountView, type ModelGuard } from './model-guard.js';
import { modelView } from './model-view.js';
import type { SharedEvidence } from './shared-evidence.js';

const PREFIX = '/extraction/users';
const DEFAULT_PAGE = 50;
// A filtered page reads at most this many accounts per returned row (and never more than
// MAX_SCAN): a rare level costs more pages, never a long turn of the event loop.
const SCAN_PER_ROW = 20;
const MAX_SCAN = 2000;

const fail = (status: number, code: string, error: string): AdminAnswer => ({ status, body: { error, code } });
const notFound = fail(404, 'route_not_allowed', 'not found');

/** An account's view with the operator's override in force, if any. */
type ListedAccount = Omit<AccountView, 'timeline' | 'levelChanges'> &
  Partial<Pick<AccountView, 'timeline' | 'levelChanges'>> & {
    readonly override?: { readonly kind: OverrideKind; readonly until: string; readonly by: string };
  };

function withOverride(v: ListedAccount, o: AccountOverride | undefined): ListedAccount {
  return o ? { ...v, override: { kind: o.kind, until: new Date(o.until).toISOString(), by: o.by } } : v;
}

/** Cursor of a listing: the last (model, user) a page read, opaque to clients. */
function encodeCursor(model: string, user: string): string {
  return Buffer.from(JSON.stringify([model, user])).toString('base64url');
}

function decodeCursor(raw: string): [string, string] | undefined {
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // refused below
  }
  return undefined;
}

function parseLimit(raw: string | null, max: number): number | undefined {
  if (raw === null) return Math.min(DEFAULT_PAGE, max);
  if (!/^[1-9][0-9]{0,5}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= max ? n : undefined;
}

const levelIndex = (raw: string | null): number | undefined | null =>
  raw === null ? null : (LEVELS as readonly string[]).includes(raw) ? LEVELS.indexOf(raw as Level) : undefined;

/**
 * The extraction endpoints of the operator plane (the admin router has already checked the
 * operator identity):
 * - `GET /extraction/models`: per model its mode, calibration, breaker, accounts by level and overrides;
 * - `GET /extraction/users`: a page of accounts in (model, user) order, filtered on the server
 *   (`model`, `level`, `minLevel`), `limit` up to operator.pageLimit, `cursor` from `next`;
 * - `GET /extraction/users/{user}`: one account on every guarded model;
 * - `DELETE /extraction/users/{user}` (`?model=`): clear its evidence;
 * - `POST /extraction/users/{user}/allow|block` (`{"model", "seconds", "reason"?}`): allow-list
 *   (no action applied, still scored and counted) or block by hand for a time;
 * - `DELETE /extraction/users/{user}/override?model=`: lift either.
 * Every mutation goes to the audit log with the operator who made it.
 */
export function extractionAdmin(
  guards: ReadonlyMap<string, ModelGuard>,
  shared: ReadonlyMap<string, SharedEvidence>,
  deps: StageDeps,
): { users: AdminHandler; models: AdminHandler } {
  const plane: OperatorPlane | undefined = deps.operator;
  plane?.watch(guards);
  const models = [...guards.keys()].sort();
  const pageLimit = deps.config.operator.pageLimit;

  // The level an account has now, without moving its state (a read must not hide a change from
  // the gate, which reports it).
  const levelNow = (g: ModelGuard, user: string, now: number): number | undefined => {
    const acc = g.accounts.peek(user);
    return acc && g.guard.ladder.levelFor(g.guard.ladder.decayed(acc, now), acc.level);
  };

  const modelsHandler: AdminHandler = async ({ method }) => {
    if (method !== 'GET' && method !== 'HEAD') return fail(405, 'method_not_allowed', 'GET only');
    const out = [];
    for (const m of models) {
      const g = guards.get(m)!;
      const overrides = plane?.overrides.list(m) ?? [];
      out.push({
        ...modelView(g),
        capacity: g.capacity,
        tracked: g.accounts.size,
        overrides: {
          allow: overrides.filter((o) => o.kind === 'allow').length,
          block: overrides.filter((o) => o.kind === 'block').length,
        },
      });
    }
    return { status: 200, body: { models: out } };
  };

  const list = async (query: URLSearchParams): Promise<AdminAnswer> => {
    const model = query.get('model');
    if (model !== null && !guards.has(model))
      return fail(404, 'model_not_found', `extraction is off or unknown for model ${JSON.stringify(model)}`);
    const level = levelIndex(query.get('level'));
    const minLevel = levelIndex(query.get('minLevel'));
    if (level === undefined || minLevel === undefined)
      return fail(400, 'invalid_input', `level and minLevel must be one of ${LEVELS.join(', ')}`);
    const limit = parseLimit(query.get('limit'), pageLimit);
    if (limit === undefined) return fail(400, 'invalid_input', `limit must be an integer from 1 to ${pageLimit}`);
    const rawCursor = query.get('cursor');
    const cursor = rawCursor === null ? undefined : decodeCursor(rawCursor);
    if (rawCursor !== null && !cursor) return fail(400, 'invalid_input', 'cursor is not one this gateway returned');
    await plane?.index.catchUp();

    // Everything below runs in one turn, bounded by `budget` accounts read.
    const now = deps.now();
    const users: ListedAccount[] = [];
    let budget = Math.min(MAX_SCAN, limit * SCAN_PER_ROW);
    let last: [string, string] | undefined;
    let exhausted = true;
    for (const m of model === null ? models : [model]) {
      if (cursor && m < cursor[0]) continue;
      const g = guards.get(m)!;
      const keys = plane
        ? plane.index.after(m, cursor && m === cursor[0] ? cursor[1] : undefined)
        : [...g.accounts.keys()].sort();
      for (const u of keys) {
        if (users.length === limit || budget === 0) {
          exhausted = false;
          break;
        }
        budget--;
        last = [m, u];
        const l = levelNow(g, u, now);
        if (l === undefined) {
          // Evicted while escalated: the guard keeps its record and restores it on its next
          // request, so the index keeps the key (a blocked account is never scored again to re-announce it).
          if (!g.records.has(u)) plane?.index.forget(m, u);
          continue;
        }
        if ((level !== null && l !== level) || (minLevel !== null && l < minLevel)) continue;
        // A listing row leaves out the per-interval history: the account's own endpoint has it.
        const { timeline: _timeline, levelChanges: _changes, ...row } = viewOf(g, g.accounts.peek(u)!, now);
        users.push(withOverride(row, plane?.overrides.of(m, u)));
      }
      if (!exhausted) break;
    }
    return { status: 200, body: { users, next: !exhausted && last ? encodeCursor(...last) : null } };
  };

  const act = async (req: AdminRequest, user: string, action: 'allow' | 'block' | 'lift'): Promise<AdminAnswer> => {
    if (!plane) return fail(404, 'operator_off', 'operator endpoints are off');
    const b = (action === 'lift' ? { model: req.query.get('model') } : req.body) as {
      model?: unknown;
      seconds?: unknown;
      reason?: unknown;
    } | null;
    const model = typeof b?.model === 'string' ? b.model : undefined;
    if (!model || !guards.has(model)) return fail(400, 'invalid_input', 'model must name a model with extraction on');
    const reason = b?.reason;
    if (reason !== undefined && (typeof reason !== 'string' || reason.length > 200))
      return fail(400, 'invalid_input', 'reason must be a string of at most 200 characters');
    let until: number | undefined;
    if (action !== 'lift') {
      const max = deps.config.operator.maxOverrideSeconds;
      if (typeof b?.seconds !== 'number' || !Number.isInteger(b.seconds) || b.seconds < 60 || b.seconds > max)
        return fail(400, 'invalid_input', `seconds must be an integer from 60 to ${max}`);
      until = deps.now() + b.seconds * 1000;
    }
    try {
      if (action === 'lift') {
        if (!(await plane.overrides.lift(model, user)))
          return fail(404, 'model_not_found', 'no override for this account on this model');
      } else
        await plane.overrides.set(model, user, { kind: action, until: until!, by: req.operator.id, at: deps.now() });
    } catch {
      return fail(503, 'limits_unavailable', 'the shared store did not take the change; nothing was changed');
    }
    const entry = plane.audit.record({
      operator: req.operator,
      action,
      user,
      models: [model],
      ...(until ? { until: new Date(until).toISOString() } : {}),
      ...(typeof reason === 'string' ? { reason } : {}),
    });
    return { status: 200, body: { user, model, action, ...(entry.until ? { until: entry.until } : {}) } };
  };

  const clear = async (req: AdminRequest, user: string, model: string | null): Promise<AdminAnswer> => {
    const cleared: string[] = [];
    for (const g of guards.values()) {
      if (model !== null && g.model !== model) continue;
      if (g.clear(user)) cleared.push(g.model);
      const s = shared.get(g.model);
      if (s)
        await s.remove(g.model, user).catch(() => deps.metrics.extractionStoreFallbacks.inc({ operation: 'delete' }));
    }
    const action: AuditAction = 'clear';
    if (plane) plane.audit.record({ operator: req.operator, action, user, models: cleared });
    else deps.log.warn({ user, models: cleared, operator: req.operator.id }, 'extraction state cleared by an operator');
    return { status: 200, body: { user, cleared } };
  };

  const users: AdminHandler = async (req) => {
    const { method, path, query } = req;
    if (path === PREFIX) {
      if (method !== 'GET' && method !== 'HEAD') return fail(405, 'method_not_allowed', 'GET only');
      return list(query);
    }
    // One percent-encoded segment (user ids such as `issuer|subject` contain '/' once decoded),
    // then an optional action.
    const [segment, sub, ...rest] = path.slice(PREFIX.length + 1).split('/');
    if (!segment || rest.length > 0) return notFound;
    let user: string;
    try {
      user = decodeURIComponent(segment);
    } catch {
      return fail(400, 'invalid_path', 'the user id is not valid percent-encoding');
    }
    const model = query.get('model');
    if (model !== null && !guards.has(model))
      return fail(404, 'model_not_found', `extraction is off or unknown for model ${JSON.stringify(model)}`);
    if (sub === 'allow' || sub === 'block')
      return method === 'POST' ? act(req, user, sub) : fail(405, 'method_not_allowed', 'POST only');
    if (sub === 'override')
      return method === 'DELETE' ? act(req, user, 'lift') : fail(405, 'method_not_allowed', 'DELETE only');
    if (sub !== undefined) return notFound;
    if (method === 'GET' || method === 'HEAD') {
      const now = deps.now();
      const views: ListedAccount[] = [];
      for (const g of guards.values()) {
        if (model !== null && g.model !== model) continue;
        const acc = g.accounts.peek(user);
        const o = plane?.overrides.of(g.model, user);
        if (acc) views.push(withOverride(viewOf(g, acc, now), o));
      }
      return views.length
        ? { status: 200, body: { user, models: views } }
        : fail(404, 'model_not_found', 'user not tracked');
    }
    if (method === 'DELETE') return clear(req, user, model);
    return fail(405, 'method_not_allowed', 'GET, DELETE or POST …/allow|block');
  };

  return { users, models: modelsHandler };
}
