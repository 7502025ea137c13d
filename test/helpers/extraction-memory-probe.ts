// Run with --expose-gc by the extraction memory test: fills one model guard with accounts at
// their largest and prints what the process really allocated for them, as JSON on stdout.
import { buildConfig } from '../../src/config/load-config.js';
import { ModelGuard } from '../../src/extraction/model-guard.js';

const accounts = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const detectors = JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>;
const configWith = (maxStateBytes: number) =>
  buildConfig({
    auth: { enabled: false },
    models: {
      m: {
        labels: ['a', 'b'],
        extraction: {
          mode: 'shadow',
          features: { centre: [0, 0, 0, 0], scale: [1, 1, 1, 1] },
          detectors,
          maxAccounts: accounts,
          maxStateBytes,
        },
      },
    },
  });
// The budget that holds exactly `accounts` accounts at their largest, by the guard's own accounting.
const config = configWith(new ModelGuard('m', 'shadow', configWith(2 ** 40).models['m']!).budgetFor(accounts));

const measure = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};
const before = measure();
const g = new ModelGuard('m', 'shadow', config.models['m']!);
const row = new Float64Array(4);
let x = 1;
for (let u = 0; u < accounts; u++) {
  // Keys as the gateway builds them: `issuer|subject`, a fresh string per account.
  const acc = g.account(`https://issuer.example/realms/r|user-${u.toString(36).padStart(8, '0')}`, u);
  for (let i = 0; i < 24; i++) {
    for (let j = 0; j < 4; j++) {
      x = (Math.imul(x, 1103515245) + 12345) | 0;
      row[j] = (x >>> 8) / (1 << 22) - 2;
    }
    g.guard.observe(acc, row, i & 1, Number.NaN, u);
  }
  // At its largest an account has its level-change ring too (made on its first level change).
  acc.recordChange(u, 0, 0, 0);
}
const after = measure();
process.stdout.write(
  JSON.stringify({
    accounts: g.accounts.size,
    capacity: g.capacity,
    accountBytes: g.accountBytes,
    maxStateBytes: config.models['m']!.extraction.maxStateBytes,
    measured: after - before,
  }),
);
