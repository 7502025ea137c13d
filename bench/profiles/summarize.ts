// Summarises a V8 .cpuprofile (node --cpu-prof) by function and by package, as markdown:
//   node dist/bench/profiles/summarize.js file.cpuprofile [top]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
const [file = '', topArg = '25'] = process.argv.slice(2);
const prof = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  startTime: number;
  endTime: number;
};
const total = prof.samples.length;
const idle = new Set(['(idle)', '(program)', '(garbage collector)']);

function pkg(url: string, fn: string): string {
  if (idle.has(fn)) return fn;
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const m = /\/dist\/(src|bench|test)\/(.*)$/.exec(url);
  if (m) return `gateway ${m[1]}/${m[2]!.split('/').slice(0, -1).join('/') || '.'}`;
  return url;
}

const byFn = new Map<string, number>();
const byPkg = new Map<string, number>();
for (const n of prof.nodes) {
  const hits = n.hitCount ?? 0;
  if (!hits) continue;
  const { functionName, url, lineNumber } = n.callFrame;
  const short = url
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/dist\//, '')
    .replace(/^file:\/\//, '');
  const key = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
  byFn.set(key, (byFn.get(key) ?? 0) + hits);
  const p = pkg(url, functionName);
  byPkg.set(p, (byPkg.get(p) ?? 0) + hits);
}
const pct = (h: number) => ((100 * h) / total).toFixed(1);
const top = Number(topArg);
const out = [
  `Samples: ${total} over ${((prof.endTime - prof.startTime) / 1e6).toFixed(1)} s`,
  '',
  '| package | self % |',
  '| --- | ---: |',
];
for (const [k, v] of [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, 20)) out.push(`| ${k} | ${pct(v)} |`);
out.push('', '| function (self) | self % |', '| --- | ---: |');
for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`| \`${k}\` | ${pct(v)} |`);
process.stdout.write(out.join('\n') + '\n');
