// The targets a profiling tool runs, by id, with another build's gateway rows beside this build's
// when `--baseline <dist>` names one (as `<id>@base`), so a change is measured against what it
// replaces in one run on a shared machine.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gatewayTargets } from '../targets/gateway-targets.js';
import type { Target } from '../targets/target.js';

/** The gateway rows of the build whose dist/ directory is `dist`, renamed `<id>@base`. */
export async function baselineTargets(dist: string | undefined): Promise<Target[]> {
  if (!dist) return [];
  const other = (await import(pathToFileURL(resolve(dist, 'bench/targets/gateway-targets.js')).href)) as {
    gatewayTargets: Target[];
  };
  return other.gatewayTargets
    .filter((t) => t.group === 'gateway')
    .map((t) => ({ ...t, id: `${t.id}@base`, name: `${t.name} [baseline build]`, start: t.start.bind(t) }));
}

/**
 * The targets named in `only` (comma-separated ids) among `peers`, this build's gateway rows and
 * the baseline's, each gateway row followed by its baseline twin; targets this build cannot run
 * are left out.
 */
export async function chosenTargets(
  only: string,
  peers: Target[],
  baselineDist: string | undefined,
): Promise<Target[]> {
  const baseline = await baselineTargets(baselineDist);
  const every = [...peers, ...gatewayTargets, ...baseline];
  return only
    .split(',')
    .map((s) => s.trim())
    .flatMap((id) => [id, ...(baseline.length && id.startsWith('gw-') ? [`${id}@base`] : [])])
    .map((id) => every.find((t) => t.id === id))
    .filter((t): t is Target => t !== undefined && !t.notBuilt);
}
