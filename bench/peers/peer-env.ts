// What every Node peer reads at start-up and how it announces itself to the harness.
import type { AddressInfo } from 'node:net';

export function requiredEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

/** The harness waits for this one JSON line on stdout. */
export function announce(address: AddressInfo | string | null): void {
  if (!address || typeof address === 'string') throw new Error('expected a TCP address');
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}` })}\n`);
}

process.on('SIGTERM', () => process.exit(0));
