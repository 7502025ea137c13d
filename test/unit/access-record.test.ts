import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { buildConfig } from '../../src/config/load-config.js';
import { accessRecorder, flushAccessLog } from '../../src/observability/access-record.js';
import { createLogger } from '../../src/observability/logger.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { routedContext } from '../helpers/request-view.js';

/** Records one allowed request for `subject` and returns the access line as written. */
function lineFor(subject: string, requestId = 'req-1'): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString('utf8')));
  const log = createLogger('info', out);
  const config = buildConfig({ auth: { enabled: false } }, 'test');
  const record = accessRecorder('proxy', config, new GatewayMetrics({ defaultMetrics: false }), log);
  const ctx = routedContext({ instances: [[1, 2, 3, 4]] }, { path: '/v1/models/iris:predict' });
  ctx.identity = { issuer: 'https://id.example', subject, claims: {} };
  record({ requestId, method: 'POST', ctx, outcome: 'allowed', status: 200, ms: 1.234 });
  flushAccessLog(log);
  return text;
}

describe('the access line', () => {
  it('is one line of JSON with the request fields', () => {
    const line = lineFor('alice');
    assert.equal(line.split('\n').length, 2, 'one line, ended by a newline');
    const rec = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(
      {
        requestId: rec['requestId'],
        method: rec['method'],
        model: rec['model'],
        subject: rec['subject'],
        status: rec['status'],
        outcome: rec['outcome'],
        ms: rec['ms'],
      },
      {
        requestId: 'req-1',
        method: 'POST',
        model: 'iris',
        subject: 'alice',
        status: 200,
        outcome: 'allowed',
        ms: 1.23,
      },
    );
  });

  it('carries a subject with quotes, backslashes, newlines and lone surrogates intact, and cannot be split or extended by it', () => {
    for (const subject of [
      'a"b',
      'a\\b',
      'a\nb","outcome":"forged',
      'x\u0000y',
      'lone \ud800 surrogate',
      'pair 🌸 ok',
      'é',
    ]) {
      const line = lineFor(subject);
      assert.equal(line.indexOf('\n'), line.length - 1, `one line for ${JSON.stringify(subject)}`);
      const rec = JSON.parse(line) as Record<string, unknown>;
      assert.equal(rec['subject'], subject);
      assert.equal(rec['outcome'], 'allowed');
    }
  });

  it('is gathered for a file destination and written out at a flush (pino.destination with minLength)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'access-record-'));
    try {
      const file = join(dir, 'access.log');
      const log = createLogger('info', file);
      const record = accessRecorder(
        'proxy',
        buildConfig({ auth: { enabled: false } }, 'test'),
        new GatewayMetrics({ defaultMetrics: false }),
        log,
      );
      for (let i = 0; i < 3; i++)
        record({ requestId: `req-${i}`, method: 'GET', ctx: undefined, outcome: 'allowed', status: 200, ms: 1 });
      assert.equal(readFileSync(file, 'utf8'), '', 'three short lines stay gathered');
      flushAccessLog(log);
      assert.deepEqual(
        readFileSync(file, 'utf8')
          .trimEnd()
          .split('\n')
          .map((l) => (JSON.parse(l) as { requestId: string }).requestId),
        ['req-0', 'req-1', 'req-2'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
