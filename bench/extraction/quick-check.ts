// Development aid: a few streams on a tuning seed, printed (not the evaluation).
import { ATTACKS } from './attacks.js';
import { runAttack, runBenign } from './evaluate.js';
import { buildWorld } from './world.js';
const world = buildWorld(Number(process.argv[2] ?? 1));
let t = performance.now();
const b = runBenign(world, Array.from({ length: 50 }, (_, i) => 1000 + i), 10_000, 'proxy');
console.log('benign', b, ((performance.now() - t) / b.queries * 1000).toFixed(2), 'µs/query all-in');
for (const attack of ATTACKS) for (const noise of [0, 0.1, 0.5]) {
  t = performance.now();
  const r = [1, 2, 3, 4, 5].map((s) => runAttack(world, { attack, noise, accounts: 1, interval: 0.1, budget: 5000, mode: 'proxy' }, s));
  console.log(attack, noise, r.map((x) => x.flaggedAt).join(','), JSON.stringify(r[0]!.detectorAt), (performance.now() - t).toFixed(0), 'ms');
}
