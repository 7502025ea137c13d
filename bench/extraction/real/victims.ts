import { Xoshiro128 } from '../../../src/extraction/prng.js';
import { loadDataset, type Dataset, type VictimKind } from './datasets.js';
import { marginOf, Mlp, RidgeRegression, SoftmaxRegression, standardiserOf, type Classifier } from './models.js';

/** Top-1 − top-2 below this is a "low-margin" answer (the detector's margin signal). */
export const LOW_MARGIN = 0.1;
/** The share of ordinary answers the low-margin victim must have below LOW_MARGIN. */
export const LOW_MARGIN_SHARE = 0.4;
/** A regression victim's answers are bucketed into this many quantiles for attackers' labels. */
const VALUE_BUCKETS = 4;

/**
 * A victim as the gateway and an attacker see it. `answer` gives the gateway's view (class and
 * margin behind the proxy; class 0 and no margin for a regression, whose answers carry no
 * classes); `label` is what the attacker learns, as a class (a regression's value falls into one
 * of VALUE_BUCKETS quantile buckets of the training predictions).
 */
export interface Victim {
  readonly kind: VictimKind;
  /** Labels an attacker distinguishes (classes, or value buckets). */
  readonly labels: number;
  /** The margin of the last `answer` (NaN for a regression). */
  margin: number;
  answer(x: ArrayLike<number>): number;
  label(x: ArrayLike<number>): number;
}

class ClassifierVictim implements Victim {
  margin = Number.NaN;
  readonly labels: number;
  constructor(
    readonly kind: VictimKind,
    readonly model: Classifier,
  ) {
    this.labels = model.classes;
  }
  answer(x: ArrayLike<number>): number {
    const c = this.model.predict(x);
    this.margin = marginOf(this.model.probs);
    return c;
  }
  label(x: ArrayLike<number>): number {
    return this.model.predict(x);
  }
}

class RegressionVictim implements Victim {
  readonly kind = 'regression' as const;
  readonly labels = VALUE_BUCKETS;
  margin = Number.NaN;
  constructor(
    readonly model: RidgeRegression,
    private readonly cuts: readonly number[],
  ) {}
  answer(): number {
    return 0;
  }
  label(x: ArrayLike<number>): number {
    const v = this.model.predict(x);
    let b = 0;
    while (b < this.cuts.length && v >= this.cuts[b]!) b++;
    return b;
  }
}

/** What the operator configures for the detector: the training split's centre and scale, and its range. */
export interface FeatureDescription {
  readonly centre: number[];
  readonly scale: number[];
  readonly min: number[];
  readonly max: number[];
}

export interface RealWorld {
  readonly data: Dataset;
  readonly seed: number;
  readonly train: readonly number[];
  readonly test: readonly number[];
  readonly victim: Victim;
  readonly features: FeatureDescription;
  /** Test accuracy (classifiers) or R² (regression). */
  readonly quality: number;
  /** Share of all the data set's rows answered with top-1 − top-2 < LOW_MARGIN (classifiers). */
  readonly lowMarginShare: number;
  /** MLP softmax temperature used (1: as trained). */
  readonly temperature: number;
}

function shuffled(n: number, rng: Xoshiro128): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx;
}

function lowMarginShare(v: Victim, rows: readonly Float64Array[]): number {
  let low = 0;
  for (const r of rows) {
    v.answer(r);
    if (v.margin < LOW_MARGIN) low++;
  }
  return low / rows.length;
}

/** Trains the data set's victim on a seeded 70% split; the rest is held out. */
export function buildRealWorld(name: string, seed: number): RealWorld {
  const data = loadDataset(name);
  const rng = new Xoshiro128(seed);
  const order = shuffled(data.rows.length, rng);
  const cut = Math.round(order.length * 0.7);
  const train = order.slice(0, cut).sort((a, b) => a - b);
  const test = order.slice(cut).sort((a, b) => a - b);
  const xs = train.map((i) => data.rows[i]!);
  const ys = train.map((i) => data.target[i]!);
  const std = standardiserOf(xs);
  const d = data.features.length;
  const min = new Array<number>(d).fill(Infinity);
  const max = new Array<number>(d).fill(-Infinity);
  for (const x of xs)
    for (let j = 0; j < d; j++) {
      min[j] = Math.min(min[j]!, x[j]!);
      max[j] = Math.max(max[j]!, x[j]!);
    }
  const features = { centre: Array.from(std.centre), scale: Array.from(std.scale), min, max };
  let victim: Victim;
  let quality: number;
  let temperature = 1;
  if (data.victim === 'regression') {
    const model = new RidgeRegression(std).train(xs, ys);
    const preds = xs.map((x) => model.predict(x)).sort((a, b) => a - b);
    const cuts = Array.from(
      { length: VALUE_BUCKETS - 1 },
      (_, b) => preds[Math.floor(((b + 1) * preds.length) / VALUE_BUCKETS)]!,
    );
    victim = new RegressionVictim(model, cuts);
    const yt = test.map((i) => data.target[i]!);
    const mean = yt.reduce((a, b) => a + b, 0) / yt.length;
    let ss = 0;
    let res = 0;
    test.forEach((i, k) => {
      ss += (yt[k]! - mean) ** 2;
      res += (yt[k]! - model.predict(data.rows[i]!)) ** 2;
    });
    quality = 1 - res / ss;
  } else {
    const classes = data.classes!.length;
    let model: Classifier;
    if (data.victim === 'softmax') {
      model = new SoftmaxRegression(std, classes).train(xs, ys, 400);
    } else {
      const mlp = new Mlp(std, classes, 16, seed ^ 0x3c6ef372).train(xs, ys, 300);
      // A calibrated model on a hard task answers with low margins; where plain training left it
      // more confident than that, the output is softened by temperature scaling (Guo et al.,
      // "On Calibration of Modern Neural Networks", ICML 2017), which keeps every prediction.
      const v = new ClassifierVictim('mlp', mlp);
      while (lowMarginShare(v, data.rows) < LOW_MARGIN_SHARE && mlp.temperature < 8) mlp.temperature += 0.25;
      temperature = mlp.temperature;
      model = mlp;
    }
    victim = new ClassifierVictim(data.victim, model);
    quality = test.filter((i) => victim.answer(data.rows[i]!) === data.target[i]).length / test.length;
  }
  return {
    data,
    seed,
    train,
    test,
    victim,
    features,
    quality,
    lowMarginShare: data.victim === 'regression' ? Number.NaN : lowMarginShare(victim, data.rows),
    temperature,
  };
}
