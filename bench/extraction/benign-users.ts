import { Xoshiro128 } from '../../src/extraction/prng.js';
import { D, K, type World } from './world.js';

/**
 * Benign users of the evaluation protocol: heterogeneous interests (Dirichlet(0.5) weights over
 * the mixture's components), 10% of users in correlated sessions (AR(1) drift with ρ = 0.9 in
 * the component's latent space, as a sensor series or a user editing one record), 2% exact
 * retries of a recent query, batches of 1–32 rows sent together.
 */
export interface BenignRow {
  readonly row: Float64Array;
  /** Seconds since the user's first query. */
  readonly t: number;
}

function gamma(shape: number, rng: Xoshiro128): number {
  // Marsaglia and Tsang (ACM TOMS 2000), with the shape < 1 boost.
  if (shape < 1) return gamma(shape + 1, rng) * Math.pow(rng.next() || 1e-300, 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function* benignUser(world: World, seed: number, queries: number): Generator<BenignRow> {
  const rng = new Xoshiro128(seed);
  const weights = Array.from({ length: K }, () => gamma(0.5, rng));
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf: number[] = [];
  let acc = 0;
  for (const w of weights) cdf.push((acc += w / total));
  const pick = () => {
    const u = rng.next();
    const i = cdf.findIndex((c) => u < c);
    return i < 0 ? K - 1 : i;
  };
  const sessioned = rng.next() < 0.1;
  const rho = 0.9;
  const innov = Math.sqrt(1 - rho * rho);
  const eps = new Float64Array(D);
  let component = pick();
  const recent: Float64Array[] = [];
  let t = 0;
  let sent = 0;
  while (sent < queries) {
    t += -Math.log(rng.next() || 1e-12) * 5; // think time between requests, mean 5 s
    const batch = 1 + Math.floor(rng.next() * (rng.next() < 0.8 ? 1 : 32));
    for (let b = 0; b < batch && sent < queries; b++, sent++) {
      if (recent.length > 0 && rng.next() < 0.02) {
        yield { row: recent[Math.floor(rng.next() * recent.length)]!, t };
        continue;
      }
      let row: Float64Array;
      if (sessioned) {
        // A new session (mean length 100) picks a component and restarts the drift.
        if (rng.next() < 0.01) {
          component = pick();
          for (let j = 0; j < D; j++) eps[j] = rng.normal();
        } else {
          for (let j = 0; j < D; j++) eps[j] = rho * eps[j]! + innov * rng.normal();
        }
        row = world.p.sampleInto(new Float64Array(D), component, rng, eps);
      } else {
        row = world.p.sampleInto(new Float64Array(D), pick(), rng);
      }
      recent.push(row);
      if (recent.length > 8) recent.shift();
      yield { row, t };
    }
  }
}
