// Summarises V8 CPU profiles (node --cpu-prof) by function and by package, self time only:
// where the gateway's CPU goes, in a form that can be committed and compared between runs.
// The .cpuprofile format is the DevTools protocol's Profiler.Profile (nodes, samples, timeDeltas).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
}
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Share {
  readonly name: string;
  readonly micros: number;
  readonly share: number;
}
export interface ProfileSummary {
  /** Sampled time outside (idle), microseconds. */
  readonly busyMicros: number;
  readonly functions: Share[];
  readonly packages: Share[];
}

/** Which package a frame's code belongs to: a node_modules package, Node's own code, the gateway, or V8. */
export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node (runtime)';
  // undici parses HTTP/1 answers with llhttp compiled to WebAssembly.
  if (url.startsWith('wasm://')) return "wasm (undici's llhttp)";
  const src = /\/dist\/(src|bench|test)\//.exec(url);
  if (src) return `inference-gateway ${src[1]}/`;
  return url;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url;
}

function shares(m: Map<string, number>, busy: number, top: number): Share[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, micros]) => ({ name, micros, share: busy > 0 ? micros / busy : 0 }));
}

export function summariseProfile(p: CpuProfile, top = 40): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  let busy = 0;
  p.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = p.timeDeltas[i] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)' || dt <= 0) return;
    busy += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    const fkey = `${functionName || '(anonymous)'}${url ? ` ${shortUrl(url)}:${lineNumber + 1}` : ''}`;
    fn.set(fkey, (fn.get(fkey) ?? 0) + dt);
    const k = packageOf(url, functionName);
    pkg.set(k, (pkg.get(k) ?? 0) + dt);
  });
  return { busyMicros: busy, functions: shares(fn, busy, top), packages: shares(pkg, busy, 25) };
}

export function summaryMarkdown(title: string, s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    `# CPU profile: ${title}`,
    '',
    `Self time, ${(s.busyMicros / 1e6).toFixed(2)} s sampled outside idle. Written by \`npm run bench -- --profile\` (the profiler slows the process: read shares, not absolute figures).`,
    '',
    '## By package',
    '',
    '| package | self ms | share |',
    '| --- | ---: | ---: |',
    ...s.packages.map((p) => `| ${p.name} | ${(p.micros / 1000).toFixed(0)} | ${pct(p.share)} |`),
    '',
    '## By function (top)',
    '',
    '| function | self ms | share |',
    '| --- | ---: | ---: |',
    ...s.functions.map(
      (f) => `| \`${f.name.replace(/\|/g, '\\|')}\` | ${(f.micros / 1000).toFixed(0)} | ${pct(f.share)} |`,
    ),
    '',
  ].join('\n');
}

/** Summarises every .cpuprofile in `from` into `<name>-summary.md` files in `to`; returns the files written. */
export function summariseProfiles(from: string, to: string): string[] {
  mkdirSync(to, { recursive: true });
  const written: string[] = [];
  for (const f of readdirSync(from).filter((x) => x.endsWith('.cpuprofile'))) {
    const name = basename(f, '.cpuprofile');
    const out = join(to, `${name}-summary.md`);
    writeFileSync(
      out,
      summaryMarkdown(name, summariseProfile(JSON.parse(readFileSync(join(from, f), 'utf8')) as CpuProfile)),
    );
    written.push(out);
  }
  return written;
}

// As a command: node dist/bench/profile-summary.js <dir with .cpuprofile files> <output dir>
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [from, to] = process.argv.slice(2);
  if (!from || !to) throw new Error('usage: profile-summary <profiles dir> <output dir>');
  for (const f of summariseProfiles(from, to)) process.stdout.write(`${f}\n`);
}
