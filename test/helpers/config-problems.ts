import assert from 'node:assert/strict';
import { ConfigError, buildConfig } from '../../src/config/load-config.js';

// Tests about other sections turn auth off, so its required issuer does not add a problem.
export const NO_AUTH = { auth: { enabled: false } };

/** The problems (`path: message`) a raw document has, with authentication off unless it says otherwise. */
export function problemsOf(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    buildConfig({ ...NO_AUTH, ...raw }, 'test', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}
