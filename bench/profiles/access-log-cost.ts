// CPU per access line written to /dev/null through pino.destination: lines gathered into one
// string and written per 64 KiB (what src/observability/logger.ts does), against
// pino.destination's own minLength gathering, and a write per line. Bounded: 200,000 lines each.
//   node dist/bench/profiles/access-log-cost.js
import { pino } from 'pino';

const LINE =
  '{"level":30,"time":"2026-12-07T03:00:00.000Z","service":"inference-gateway","door":"proxy","requestId":"0f8c1e9a-3b2d-4c5e-8f7a-1b2c3d4e5f60","method":"POST","routeClass":"model","model":"iris","subject":"bench-user","status":200,"outcome":"allowed","ms":0.42,"msg":"request"}\n';
const LINES = 200_000;

function gathered(): (line: string) => void {
  const out = pino.destination({ dest: '/dev/null', sync: true });
  let pending = '';
  return (line) => {
    pending += line;
    if (pending.length >= 65536) {
      out.write(pending);
      pending = '';
    }
  };
}

function minLength(min: number, maxWrite?: number): () => (line: string) => void {
  return () => {
    const out = pino.destination({ dest: '/dev/null', sync: true, minLength: min, ...(maxWrite ? { maxWrite } : {}) });
    return (line) => void out.write(line);
  };
}

const variants: Array<[string, () => (line: string) => void]> = [
  ['gathered here, a write per 64 KiB', gathered],
  ['minLength 64 KiB (maxWrite 256 KiB)', minLength(65536, 262144)],
  ['minLength 8 KiB (maxWrite 16 KiB)', minLength(8192)],
  ['a write per line', minLength(0)],
];
for (let round = 0; round < 3; round++) {
  for (const [name, make] of variants) {
    const write = make();
    const before = process.cpuUsage();
    for (let i = 0; i < LINES; i++) write(LINE);
    const spent = process.cpuUsage(before);
    if (round === 2)
      process.stdout.write(`${name.padEnd(38)} ${((spent.user + spent.system) / LINES).toFixed(2)} µs/line\n`);
  }
}
