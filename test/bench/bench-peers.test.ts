// The bench's peers must do the work their rows claim: forward the answer unchanged, and the
// authenticating ones must refuse what a JWT verifier refuses. Real nginx, HAProxy and Node
// peer processes in front of a real demo predictor; a missing binary fails the test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startDemoPredictor, type DemoPredictor } from '../../src/quickstart/demo-predictor.js';
import { createBenchIdentity, type BenchIdentity } from '../../bench/bench-identity.js';
import { v2InferCall } from '../../bench/load/bench-call.js';
import { haproxyTargetJwt, haproxyTargetPlain, nginxTarget } from '../../bench/targets/native-peers.js';
import {
  fastifyHttpProxyTarget,
  fastifyReplyFromJoseTarget,
  fastifyReplyFromTarget,
  nodeFloorTarget,
} from '../../bench/targets/node-peers.js';
import type { RunningTarget, Target, TargetEnv } from '../../bench/targets/target.js';

let predictor: DemoPredictor;
let identity: BenchIdentity;
let stranger: BenchIdentity;
let env: TargetEnv;
const workDir = mkdtempSync(join(tmpdir(), 'bench-peers-test-'));

before(async () => {
  predictor = await startDemoPredictor();
  identity = await createBenchIdentity(workDir);
  // Same issuer, audience and kid, another key: its tokens carry a signature the peers must refuse.
  stranger = await createBenchIdentity(mkdtempSync(join(tmpdir(), 'bench-peers-stranger-')));
  env = { predictorUrl: predictor.url, identity, workDir, profileDir: undefined };
});
after(async () => {
  await predictor.close();
  rmSync(workDir, { recursive: true, force: true });
});

async function post(url: string, token: string | undefined) {
  const call = v2InferCall(2, token);
  const res = await request(url + call.path, { method: 'POST', headers: call.headers, body: call.body });
  return { status: res.statusCode, body: await res.body.text() };
}

function withTarget(target: Target, fn: (t: RunningTarget) => Promise<void>) {
  return async () => {
    const t = await target.start(env);
    try {
      await fn(t);
    } finally {
      await t.stop();
    }
  };
}

describe('bench peers forward the predictor answer unchanged', () => {
  for (const target of [
    nginxTarget,
    haproxyTargetPlain,
    nodeFloorTarget,
    fastifyHttpProxyTarget,
    fastifyReplyFromTarget,
  ]) {
    it(
      `${target.name} answers a V2 infer call with the predictor's own bytes`,
      withTarget(target, async (t) => {
        const direct = await post(predictor.url, undefined);
        const proxied = await post(t.url, undefined);
        assert.equal(proxied.status, 200);
        assert.equal(proxied.body, direct.body);
        assert.match(proxied.body, /"predict_proba"/);
      }),
    );
  }
});

describe('bench peers that verify tokens refuse what a JWT verifier refuses', () => {
  for (const target of [haproxyTargetJwt, fastifyReplyFromJoseTarget]) {
    it(
      `${target.name} passes a valid RS256 token`,
      withTarget(target, async (t) => {
        assert.equal((await post(t.url, await identity.token('alice'))).status, 200);
      }),
    );
    it(
      `${target.name} refuses a token signed with another key`,
      withTarget(target, async (t) => {
        assert.equal((await post(t.url, await stranger.token('alice'))).status, 401);
      }),
    );
    it(
      `${target.name} refuses an expired token`,
      withTarget(target, async (t) => {
        assert.equal(
          (await post(t.url, await identity.token('alice', { exp: Math.floor(Date.now() / 1000) - 60 }))).status,
          401,
        );
      }),
    );
    it(
      `${target.name} refuses a token for another audience`,
      withTarget(target, async (t) => {
        assert.equal((await post(t.url, await identity.token('alice', { audience: 'someone-else' }))).status, 401);
      }),
    );
    it(
      `${target.name} refuses a request without a token`,
      withTarget(target, async (t) => {
        assert.equal((await post(t.url, undefined)).status, 401);
      }),
    );
  }
});
