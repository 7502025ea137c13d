import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startHarness } from '../helpers/gateway-harness.js';
import { EnvoyCheckClient } from '../helpers/envoy-check-client.js';
import { send } from '../helpers/http.js';

function refuses(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.replace(/^http:\/\//, '').split(':');
  return new Promise((resolve) => {
    const s = connect(Number(port), host);
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('ext-authz doors in the gateway lifecycle', () => {
  it('opens no door unless enabled', async () => {
    const h = await startHarness();
    try {
      assert.equal(h.extAuthzHttpUrl, undefined);
      assert.equal(h.extAuthzGrpcAddress, undefined);
    } finally {
      await h.close();
    }
  });

  it('serves both doors once listening and closes them on shutdown', async () => {
    const h = await startHarness(() => ({
      extAuthz: {
        http: { enabled: true, host: '127.0.0.1', port: 0 },
        grpc: { enabled: true, host: '127.0.0.1', port: 0 },
      },
    }));
    const client = new EnvoyCheckClient(h.extAuthzGrpcAddress!);
    try {
      assert.equal((await send(`${h.extAuthzHttpUrl}/v2/health/ready`)).status, 200);
      assert.equal((await client.check({ method: 'GET', path: '/v2/health/ready' })).status?.code ?? 0, 0);
    } finally {
      client.close();
      await h.close();
    }
    assert.equal(await refuses(h.extAuthzHttpUrl!), true);
    assert.equal(await refuses(h.extAuthzGrpcAddress!), true);
  });
});
