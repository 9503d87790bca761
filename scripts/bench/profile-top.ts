/**
 * The heaviest functions of a V8 CPU profile (`node --cpu-prof`, e.g. bench-fleet.ts --cpu-prof DIR), by
 * self time and grouped by source file, with the CPU-ms per poll each costs when the polls made during the
 * profile are given. For comparing the collector at two fleet sizes: what grows shows up here.
 *
 *   npx tsx scripts/bench/profile-top.ts FILE.cpuprofile [--polls N] [--top 30] [--from S]
 *
 * --callers NAME adds the time spent in the functions of that name by who called them (3 frames up).
 * --from S leaves out the first S seconds of the profile (the start and the first poll round, whose
 * unknown -> up transitions of every device are not the steady state); --polls is then the polls made
 * after it.
 */
import { readFileSync } from 'node:fs';
import { parseCommandLine, usageError } from '../lib/cli.ts';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Row {
  readonly key: string;
  readonly ms: number;
}

/**
 * Self time per key (function@file:line, or file), in ms, heaviest first; with `fromUs`, only the samples
 * taken that many microseconds or more after the profile started.
 */
export function selfTimes(p: CpuProfile, keyOf: (n: ProfileNode) => string, fromUs = 0): Row[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const ms = new Map<string, number>();
  let atUs = 0;
  p.samples.forEach((id, i) => {
    atUs += p.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node || atUs < fromUs) return;
    const key = keyOf(node);
    ms.set(key, (ms.get(key) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  return [...ms].map(([key, v]) => ({ key, ms: v })).sort((a, b) => b.ms - a.ms);
}

/**
 * Time spent in (and under) the functions named `name`, by the chain of `depth` callers above them: who
 * asks for the work a self-time row shows (e.g. better-sqlite3's `prepare`).
 */
export function callersOf(
  p: CpuProfile,
  name: string,
  depth: number,
  frameOf: (n: ProfileNode) => string,
  fromUs = 0,
): Row[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ms = new Map<string, number>();
  let atUs = 0;
  p.samples.forEach((id, i) => {
    atUs += p.timeDeltas[i] ?? 0;
    if (atUs < fromUs) return;
    // The outermost frame of that name on the sampled stack: recursion counted once.
    let hit: number | undefined;
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n))
      if (byId.get(n)?.callFrame.functionName === name) hit = n;
    if (hit === undefined) return;
    const chain: string[] = [];
    for (let n = parent.get(hit); n !== undefined && chain.length < depth; n = parent.get(n)) {
      const node = byId.get(n);
      if (node) chain.push(frameOf(node));
    }
    const key = chain.join(' <- ') || '(root)';
    ms.set(key, (ms.get(key) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  return [...ms].map(([key, v]) => ({ key, ms: v })).sort((a, b) => b.ms - a.ms);
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const i = url.indexOf('/node_modules/');
  if (i >= 0) return url.slice(i + 1);
  const j = url.search(/\/(collector|config|simulator|scripts)\//);
  return j >= 0 ? url.slice(j + 1) : url.replace(/^file:\/\//, '');
}

function main(): void {
  const usage =
    'usage: npx tsx scripts/bench/profile-top.ts FILE.cpuprofile [--polls N] [--top 30] [--from S] [--callers NAME]';
  const { values, positionals } = parseCommandLine('profile-top', usage, {
    polls: { type: 'string' },
    top: { type: 'string', default: '30' },
    from: { type: 'string', default: '0' },
    callers: { type: 'string' },
  });
  const file = positionals[0];
  if (file === undefined) return usageError('profile-top', usage, 'a .cpuprofile file is required');
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const polls = values.polls === undefined ? undefined : Number(values.polls);
  const top = Number(values.top) || 30;
  const fromUs = Number(values.from) * 1e6;
  if (!(fromUs >= 0)) return usageError('profile-top', usage, '--from must be seconds >= 0');
  const totalMs = (p.endTime - p.startTime - fromUs) / 1000;
  const fmt = (r: Row): string =>
    `${r.ms.toFixed(0).padStart(8)} ms ${((r.ms / totalMs) * 100).toFixed(1).padStart(5)} %${
      polls ? `  ${(r.ms / polls).toFixed(4)} ms/poll` : ''
    }  ${r.key}`;
  console.log(
    `${file}: ${(totalMs / 1000).toFixed(1)} s profiled${fromUs > 0 ? ` after the first ${values.from} s` : ''}${polls ? `, ${polls} polls` : ''}`,
  );
  console.log('\nby file (self time):');
  for (const r of selfTimes(p, (n) => shortUrl(n.callFrame.url), fromUs).slice(0, top)) console.log(fmt(r));
  const frame = (n: ProfileNode): string =>
    `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  console.log('\nby function (self time):');
  for (const r of selfTimes(p, frame, fromUs).slice(0, top)) console.log(fmt(r));
  if (values.callers === undefined) return;
  console.log(`\n${values.callers} and what it calls, by caller (total time):`);
  for (const r of callersOf(p, values.callers, 3, frame, fromUs).slice(0, top)) console.log(fmt(r));
}

main();
