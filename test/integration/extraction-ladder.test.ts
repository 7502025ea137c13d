// The action ladder through the real gateway: real tokens from a real JWKS issuer, the real demo
// predictor answering probabilities, a sweep attacker driven until each rung shows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Xoshiro128 } from '../../src/extraction/prng.js';
import {
  IRIS_FEATURES,
  hasScores,
  irisSweep,
  settle,
  startExtractionGateway,
  type ExtractionGateway,
} from '../helpers/extraction-gateway.js';

const LADDER = { degradeAt: 3, throttleAt: 6, blockAt: 9, throttleFactor: 50, halfLifeSeconds: 60, hysteresis: 0.5 };

describe('extraction ladder (enforce mode)', () => {
  let g: ExtractionGateway;
  before(async () => {
    g = await startExtractionGateway(
      { mode: 'enforce', features: IRIS_FEATURES, actions: LADDER },
      { limits: { default: [{ name: 'second', predictions: 60, perSeconds: 1 }] } },
    );
  });
  after(() => g.close());

  it('gives a sweeping account labels, then 429, then a 403 that does not say why, and lets it back after the evidence decays', async () => {
    const seen: string[] = [];
    const sweep = irisSweep();
    for (let i = 0; i < 2000 && seen.at(-1) !== 'blocked'; i++) {
      const r = await g.predictAs('mallory', [sweep.next().value!]);
      await settle();
      const what =
        r.status === 200
          ? hasScores(r)
            ? 'scores'
            : 'labels'
          : r.status === 429
            ? 'throttled'
            : r.status === 403 && r.json()['code'] === 'access_denied'
              ? 'blocked'
              : `other ${r.status} ${r.text}`;
      if (what === 'blocked') assert.doesNotMatch(r.text, /extract|suspic|detect|sweep/i);
      seen.push(what);
      // The limits read the test's clock too: let the one-second window pass, or a throttled
      // account would never be scored again.
      if (what === 'throttled') g.advance(1000);
    }
    // First appearances in ladder order; once degraded, never scores again (allowed answers while
    // throttled are labels too).
    const firsts = [...new Set(seen)];
    assert.deepEqual(firsts, ['scores', 'labels', 'throttled', 'blocked']);
    assert.ok(!seen.slice(seen.indexOf('labels')).includes('scores'));

    // Blocked requests are not scored: the evidence only decays. Ten half-lives later it is gone.
    g.advance(10 * 60_000);
    const back = await g.predictAs('mallory', [[5.1, 3.5, 1.4, 0.2]]);
    assert.equal(back.status, 200);
    assert.ok(hasScores(back), 'full answers again');
  });
});

describe('extraction on natural queries (enforce mode)', () => {
  let g: ExtractionGateway;
  before(async () => {
    g = await startExtractionGateway({ mode: 'enforce', features: IRIS_FEATURES, actions: LADDER });
  });
  after(() => g.close());

  it('leaves an account sending natural queries alone', async () => {
    const rng = new Xoshiro128(42);
    for (let i = 0; i < 150; i++) {
      const row = IRIS_FEATURES.centre.map(
        (c, j) => Math.round((c + IRIS_FEATURES.scale[j]! * rng.normal()) * 100) / 100,
      );
      const r = await g.predictAs('alice', [row]);
      assert.equal(r.status, 200);
      assert.ok(hasScores(r), `answer ${i}: ${r.text} ${(await g.admin(`/extraction/users`)).text}`);
    }
    await settle();
    const one = await g.admin(`/extraction/users/${encodeURIComponent(`${g.issuer.issuer}|alice`)}`);
    assert.equal(one.status, 200);
    assert.equal(one.json<{ models: Array<{ level: string }> }>().models[0]!.level, 'none');
  });
});

describe('extraction degrade under the top-k policy', () => {
  it('turns the top-k scores an account was allowed into labels once it is degraded', async () => {
    const g = await startExtractionGateway(
      { mode: 'enforce', features: IRIS_FEATURES, actions: { ...LADDER, throttleAt: 0, blockAt: 0 } },
      {},
      { response: { policy: 'top-k', topK: 2 } },
    );
    try {
      const sweep = irisSweep();
      const seen: string[] = [];
      for (let i = 0; i < 40; i++) {
        const r = await g.predictAs('mallory', [sweep.next().value!]);
        assert.equal(r.status, 200);
        seen.push(hasScores(r) ? 'top-k' : 'labels');
        await settle();
      }
      assert.deepEqual([...new Set(seen)], ['top-k', 'labels']);
      assert.ok(!seen.slice(seen.indexOf('labels')).includes('top-k'));
    } finally {
      await g.close();
    }
  });
});

describe('extraction log lines', () => {
  it('writes one line per level change naming the user, model, detector and score, and one per operator clear', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n'))
          if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const g = await startExtractionGateway(
      { mode: 'enforce', features: IRIS_FEATURES, actions: LADDER },
      {},
      { logTo: sink },
    );
    try {
      const sweep = irisSweep();
      for (let i = 0; i < 60; i++) {
        await g.predictAs('mallory', [sweep.next().value!]);
        await settle();
      }
      const changes = lines.filter((l) => l['msg'] === 'extraction level changed');
      assert.deepEqual(
        changes.map((l) => l['to']),
        ['flag', 'degrade', 'throttle', 'block'],
      );
      for (const l of changes) {
        assert.equal(l['user'], `${g.issuer.issuer}|mallory`);
        assert.equal(l['model'], 'iris');
        assert.equal(typeof l['detector'], 'string');
        assert.equal(typeof l['score'], 'number');
      }
      await g.admin(`/extraction/users/${encodeURIComponent(`${g.issuer.issuer}|mallory`)}`, { method: 'DELETE' });
      assert.equal(lines.filter((l) => l['msg'] === 'extraction state cleared by an operator').length, 1);
      assert.ok(!lines.some((l) => JSON.stringify(l).includes('eyJ')), 'no token in any line');
    } finally {
      await g.close();
    }
  });
});

describe('extraction shadow mode', () => {
  let g: ExtractionGateway;
  before(async () => {
    g = await startExtractionGateway({ mode: 'shadow', features: IRIS_FEATURES, actions: LADDER });
  });
  after(() => g.close());

  it('scores and reports a sweeping account but changes none of its answers', async () => {
    const sweep = irisSweep();
    for (let i = 0; i < 120; i++) {
      const r = await g.predictAs('mallory', [sweep.next().value!]);
      assert.equal(r.status, 200);
      assert.ok(hasScores(r), `answer ${i} kept its scores`);
      await settle();
    }
    const list = await g.admin(`/extraction/users?level=block`);
    assert.deepEqual(
      list.json<{ users: Array<{ user: string }> }>().users.map((u) => u.user),
      [`${g.issuer.issuer}|mallory`],
    );
  });
});

describe('extraction admin endpoints', () => {
  let g: ExtractionGateway;
  const user = () => `${g.issuer.issuer}|mallory`;
  before(async () => {
    g = await startExtractionGateway({ mode: 'enforce', features: IRIS_FEATURES, actions: LADDER });
    const sweep = irisSweep();
    for (let i = 0; i < 40; i++) {
      await g.predictAs('mallory', [sweep.next().value!]);
      await settle();
    }
    await g.predictAs('alice', [[5.1, 3.5, 1.4, 0.2]]);
    await settle();
  });
  after(() => g.close());

  it('lists every tracked account with its model, level, per-detector scores, queries and first-seen time', async () => {
    const r = await g.admin(`/extraction/users`);
    assert.equal(r.status, 200);
    const users = r.json<{ users: Array<Record<string, unknown>> }>().users;
    assert.deepEqual(users.map((u) => u['user']).sort(), [`${g.issuer.issuer}|alice`, user()].sort());
    const m = users.find((u) => u['user'] === user())!;
    assert.equal(m['model'], 'iris');
    assert.equal(m['level'], 'block');
    assert.ok((m['scores'] as Record<string, number>)['sweep']! >= 1);
    assert.ok((m['queries'] as number) >= 9);
    assert.ok(!Number.isNaN(Date.parse(m['since'] as string)));
  });

  it('filters the list by model and by level', async () => {
    const blocked = await g.admin(`/extraction/users?model=iris&level=block`);
    assert.deepEqual(
      blocked.json<{ users: Array<{ user: string }> }>().users.map((u) => u.user),
      [user()],
    );
    const none = await g.admin(`/extraction/users?level=none`);
    assert.deepEqual(
      none.json<{ users: Array<{ user: string }> }>().users.map((u) => u.user),
      [`${g.issuer.issuer}|alice`],
    );
    assert.equal((await g.admin(`/extraction/users?model=nope`)).status, 404);
    assert.equal((await g.admin(`/extraction/users?level=purple`)).status, 400);
  });

  it('clears an account with DELETE, after which it is served again', async () => {
    assert.equal((await g.predictAs('mallory', [[5.1, 3.5, 1.4, 0.2]])).status, 403);
    const del = await g.admin(`/extraction/users/${encodeURIComponent(user())}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.deepEqual(del.json()['cleared'], ['iris']);
    assert.equal((await g.admin(`/extraction/users/${encodeURIComponent(user())}`)).status, 404);
    const again = await g.predictAs('mallory', [[5.1, 3.5, 1.4, 0.2]]);
    assert.equal(again.status, 200);
    assert.ok(hasScores(again));
  });
});
