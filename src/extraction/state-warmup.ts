import type { QueryStreamState } from './query-scorer.js';

/**
 * Reads, in one burst, the parts of an account's state that scoring a row of `classId` will
 * read whatever the row's values: the detectors' state objects, their arrays' headers and the
 * lines read in order. In a gateway serving many users an account's state is cold, and each
 * detector reached it by a chain of dependent loads (state → array → data), one miss after
 * another; issued together, the misses overlap (memory-level parallelism: Chou, Fahs and
 * Abraham, "Microarchitecture Optimizations for Exploiting Memory-Level Parallelism", ISCA 2004),
 * and the detectors then find their lines cached. Reads only: what is scored does not change.
 * Returns a small integer made from what was read, so the compiler keeps the reads (a double
 * returned from a call is boxed: 16 bytes of garbage per row).
 */
export function warmStream(st: QueryStreamState, classId: number, dims: number): number {
  let x = st.scores[0]! + st.peaks[0]! + st.repeats.touch();
  const p = st.prada;
  if (p) x += p.touch(classId, dims);
  const f = st.fingerprint;
  if (f) x += f.slots.length + f.hits.count;
  const s = st.steps;
  if (s) x += s.touch();
  const g = st.geometry;
  if (g) x += g.prev[0]! + g.windows.length + g.judged.length + g.classes[0]!;
  const l = st.lineage;
  if (l) x += l.rows.length + l.cells.length + l.shapes.length + l.cosets.length + l.steps[0]! + l.uses[0]!;
  const n = st.novelty;
  if (n) x += n.far.count;
  return x | 0;
}
