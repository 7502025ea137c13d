import { parseArgs } from 'node:util';
import {
  costBreakdowns,
  costBreakdownTable,
  DEFAULT_COST_OPTIONS,
  scoredRowCosts,
  scoredRowCostTable,
} from './cost.js';

/**
 * `node dist/bench/extraction/cost-run.js`: CPU per scored row of the extraction guard at 4, 8, 13
 * and 16 features (bench/extraction/cost.ts), one thread, in-process. `--rows`, `--accounts`,
 * `--warm-rows`, `--population-users` size the run; `--models penguins,mixture` keeps the models whose
 * name starts so; `--breakdown` prints CPU per scored row with every detector off and with each
 * alone on instead (`--rounds` alternations, medians); `--json` prints the figures instead of the table.
 */
const { values } = parseArgs({
  options: {
    rows: { type: 'string' },
    accounts: { type: 'string' },
    'warm-rows': { type: 'string' },
    'population-users': { type: 'string' },
    models: { type: 'string' },
    breakdown: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const num = (v: string | undefined, fallback: number) => (v === undefined ? fallback : Number(v));
const options = {
  ...DEFAULT_COST_OPTIONS,
  rows: num(values.rows, DEFAULT_COST_OPTIONS.rows),
  accounts: num(values.accounts, DEFAULT_COST_OPTIONS.accounts),
  warmRows: num(values['warm-rows'], DEFAULT_COST_OPTIONS.warmRows),
  populationUsers: num(values['population-users'], DEFAULT_COST_OPTIONS.populationUsers),
};
const only = values.models?.split(',');
if (values.breakdown) {
  const rows = costBreakdowns(options, only, num(values.rounds, 3));
  process.stdout.write(values.json ? `${JSON.stringify(rows, null, 2)}\n` : `${costBreakdownTable(rows)}\n`);
} else {
  const costs = scoredRowCosts(options, only);
  process.stdout.write(values.json ? `${JSON.stringify(costs, null, 2)}\n` : `${scoredRowCostTable(costs)}\n`);
}
