import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  hasScores,
  irisSweep,
  IRIS_FEATURES,
  settle,
  startExtractionGateway,
  type ExtractionGateway,
} from '../helpers/extraction-gateway.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const LADDER = { degradeAt: 3, throttleAt: 6, blockAt: 9, throttleFactor: 50, halfLifeSeconds: 60, hysteresis: 0.5 };
const NATURAL = [5.8, 3.0, 4.3, 1.3];

interface Page {
  users: Array<{ user: string; model: string; level: string; override?: { kind: string; by: string } }>;
  next: string | null;
}

/** Sends the sweep until the account is blocked (the ladder's top rung). */
async function escalate(g: ExtractionGateway, sub: string): Promise<void> {
  const sweep = irisSweep();
  for (let i = 0; i < 80; i++) {
    const r = await g.predictAs(sub, [sweep.next().value!]);
    await settle();
    if (r.status === 403) return;
  }
  assert.fail(`${sub} was never blocked`);
}

describe('paginated account listings', () => {
  let g: ExtractionGateway;
  const subs = Array.from({ length: 23 }, (_, i) => `user-${String((i * 7) % 23).padStart(2, '0')}`);
  before(async () => {
    g = await startExtractionGateway(
      { mode: 'enforce', features: IRIS_FEATURES, actions: LADDER },
      { operator: { jwt: { claim: 'roles', values: ['gateway-operator'] }, pageLimit: 10 } },
    );
    for (const s of subs) await g.predictAs(s, [NATURAL]);
    await escalate(g, 'mallory');
  });
  after(() => g.close());

  it('pages through every account once, in user order, following `next`', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = (await g.admin(`/extraction/users?limit=4${cursor ? `&cursor=${cursor}` : ''}`)).json<Page>();
      assert.ok(page.users.length <= 4);
      seen.push(...page.users.map((u) => u.user));
      cursor = page.next;
      pages++;
    } while (cursor && pages < 20);
    const expected = [...subs, 'mallory'].map((s) => `${g.issuer.issuer}|${s}`).sort();
    assert.deepEqual(seen, expected);
    assert.equal(pages, Math.ceil(expected.length / 4));
  });

  it('filters on the server: minLevel=flag lists only the escalated account', async () => {
    const page = (await g.admin('/extraction/users?minLevel=flag')).json<Page>();
    assert.deepEqual(
      page.users.map((u) => [u.user, u.level]),
      [[`${g.issuer.issuer}|mallory`, 'block']],
    );
    assert.equal(page.next, null);
  });

  it('refuses a page larger than operator.pageLimit, and a cursor it never returned', async () => {
    const big = await g.admin('/extraction/users?limit=11');
    assert.equal(big.status, 400);
    assert.match(big.json()['error'] as string, /1 to 10/);
    assert.equal((await g.admin('/extraction/users?cursor=not-a-cursor')).status, 400);
    assert.equal((await g.admin('/extraction/users?minLevel=purple')).status, 400);
  });

  it('counts accounts by level per model', async () => {
    const m = (await g.admin('/extraction/models')).json<{
      models: Array<{ model: string; mode: string; tracked: number; levels: Record<string, number> }>;
    }>().models;
    assert.equal(m.length, 1);
    assert.equal(m[0]!.model, 'iris');
    assert.equal(m[0]!.tracked, subs.length + 1);
    assert.deepEqual(m[0]!.levels, { none: subs.length, flag: 0, degrade: 0, throttle: 0, block: 1 });
  });
});

describe('operator overrides', () => {
  let g: ExtractionGateway;
  before(async () => {
    // A long half-life: the evidence outlasts the allow-list entry.
    g = await startExtractionGateway({
      mode: 'enforce',
      features: IRIS_FEATURES,
      actions: { ...LADDER, halfLifeSeconds: 3600 },
    });
  });
  after(() => g.close());
  const path = (sub: string, tail = '') =>
    `/extraction/users/${encodeURIComponent(`${g.issuer.issuer}|${sub}`)}${tail}`;

  it('allow-lists a blocked account for a time: served in full, still scored', async () => {
    await escalate(g, 'eve');
    const allow = await g.admin(path('eve', '/allow'), { body: { model: 'iris', seconds: 600 } });
    assert.equal(allow.status, 200);
    const sweep = irisSweep();
    for (let i = 0; i < 5; i++) {
      const r = await g.predictAs('eve', [sweep.next().value!]);
      assert.equal(r.status, 200);
      assert.ok(hasScores(r), 'no degrade while allow-listed');
    }
    await settle();
    const view = (await g.admin(path('eve'))).json<{
      models: Array<{ level: string; queries: number; override: { kind: string } }>;
    }>().models[0]!;
    assert.equal(view.override.kind, 'allow');
    assert.equal(view.level, 'block', 'the evidence still says what the account does');
    assert.ok(view.queries >= 10, `still scored: ${view.queries}`);
  });

  it('ends the allow-list entry at its time', async () => {
    g.advance(601_000);
    const r = await g.predictAs('eve', [NATURAL]);
    assert.equal(r.status, 403);
  });

  it('blocks an account by hand until the operator lifts it', async () => {
    assert.equal((await g.predictAs('bob', [NATURAL])).status, 200);
    assert.equal((await g.admin(path('bob', '/block'), { body: { model: 'iris', seconds: 3600 } })).status, 200);
    const blocked = await g.predictAs('bob', [NATURAL]);
    assert.equal(blocked.status, 403);
    assert.equal(blocked.json()['code'], 'access_denied');
    assert.equal((await g.admin(path('bob', '/override?model=iris'), { method: 'DELETE' })).status, 200);
    assert.equal((await g.predictAs('bob', [NATURAL])).status, 200);
  });

  it('refuses an override without a guarded model or with a time out of bounds', async () => {
    assert.equal((await g.admin(path('bob', '/block'), { body: { model: 'nope', seconds: 3600 } })).status, 400);
    assert.equal((await g.admin(path('bob', '/block'), { body: { model: 'iris', seconds: 5 } })).status, 400);
    assert.equal((await g.admin(path('bob', '/block'), { body: { model: 'iris', seconds: 31 * 86400 } })).status, 400);
    assert.equal(
      (await g.admin(path('bob', '/block'), { body: 'iris', headers: { 'content-type': 'text/plain' } })).status,
      415,
    );
  });
});

describe('operator overrides shared through Redis', () => {
  let redis: RedisServer;
  let a: ExtractionGateway;
  let b: ExtractionGateway;
  before(async () => {
    redis = await startRedis();
    const extra = { operator: { jwt: { claim: 'roles', values: ['gateway-operator'] }, overrideSyncSeconds: 0.1 } };
    a = await startExtractionGateway({ mode: 'enforce', features: IRIS_FEATURES, actions: LADDER }, extra, {
      redisUrl: redis.url,
    });
    b = await startExtractionGateway({ mode: 'enforce', features: IRIS_FEATURES, actions: LADDER }, extra, {
      redisUrl: redis.url,
      with: a,
    });
  });
  after(async () => {
    await b.close();
    await a.close();
    await redis.stop();
  });

  it('a manual block set on one replica applies on the other, and so does its lifting', async () => {
    const user = encodeURIComponent(`${a.issuer.issuer}|carol`);
    assert.equal((await b.predictAs('carol', [NATURAL])).status, 200);
    assert.equal(
      (await a.admin(`/extraction/users/${user}/block`, { body: { model: 'iris', seconds: 3600 } })).status,
      200,
    );
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await b.predictAs('carol', [NATURAL])).status, 403);
    assert.equal((await a.admin(`/extraction/users/${user}/override?model=iris`, { method: 'DELETE' })).status, 200);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal((await b.predictAs('carol', [NATURAL])).status, 200);
  });

  it('refuses the change, and changes nothing, while Redis is down', async () => {
    await redis.stop();
    const user = encodeURIComponent(`${a.issuer.issuer}|dave`);
    const r = await a.admin(`/extraction/users/${user}/block`, { body: { model: 'iris', seconds: 3600 } });
    assert.equal(r.status, 503);
    assert.equal((await a.predictAs('dave', [NATURAL])).status, 200);
  });
});

describe('listings under churn', () => {
  it('lists an escalated account again once it returns after its eviction, even if a listing ran while it was evicted', async () => {
    const g = await startExtractionGateway({
      mode: 'enforce',
      features: IRIS_FEATURES,
      actions: { ...LADDER, halfLifeSeconds: 3600 },
      maxAccounts: 20,
    });
    try {
      await escalate(g, 'mallory');
      for (let u = 0; u < 60; u++) await g.predictAs(`fresh-${u}`, [[5.1, 3.5, 1.4, 0.2 + u / 1000]]);
      await settle();
      const during = (await g.admin('/extraction/users?minLevel=flag')).json<Page>();
      assert.deepEqual(during.users, [], 'evicted: only its record is kept');
      assert.equal((await g.predictAs('mallory', [NATURAL])).status, 403, 'restored from its record, still blocked');
      const back = (await g.admin('/extraction/users?minLevel=flag')).json<Page>();
      assert.deepEqual(
        back.users.map((u) => [u.user, u.level]),
        [[`${g.issuer.issuer}|mallory`, 'block']],
      );
    } finally {
      await g.close();
    }
  });
});
