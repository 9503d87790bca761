/**
 * The heaviest functions of a V8 CPU profile (`node --cpu-prof`, e.g. bench-fleet.ts --cpu-prof DIR), by
 * self time and grouped by source file, with the CPU-ms per poll each costs when the polls made during the
 * profile are given. For comparing the collector at two fleet sizes: what grows shows up here.
 *
 *   npx tsx scripts/bench/profile-top.ts FILE.cpuprofile [--polls N] [--top 30]
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

/** Self time per key (function@file:line, or file), in ms, heaviest first. */
export function selfTimes(p: CpuProfile, keyOf: (n: ProfileNode) => string): Row[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const ms = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const key = keyOf(node);
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
  const usage = 'usage: npx tsx scripts/bench/profile-top.ts FILE.cpuprofile [--polls N] [--top 30]';
  const { values, positionals } = parseCommandLine('profile-top', usage, {
    polls: { type: 'string' },
    top: { type: 'string', default: '30' },
  });
  const file = positionals[0];
  if (file === undefined) return usageError('profile-top', usage, 'a .cpuprofile file is required');
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const polls = values.polls === undefined ? undefined : Number(values.polls);
  const top = Number(values.top) || 30;
  const totalMs = (p.endTime - p.startTime) / 1000;
  const fmt = (r: Row): string =>
    `${r.ms.toFixed(0).padStart(8)} ms ${((r.ms / totalMs) * 100).toFixed(1).padStart(5)} %${
      polls ? `  ${(r.ms / polls).toFixed(4)} ms/poll` : ''
    }  ${r.key}`;
  console.log(`${file}: ${(totalMs / 1000).toFixed(1)} s profiled${polls ? `, ${polls} polls` : ''}`);
  console.log('\nby file (self time):');
  for (const r of selfTimes(p, (n) => shortUrl(n.callFrame.url)).slice(0, top)) console.log(fmt(r));
  console.log('\nby function (self time):');
  for (const r of selfTimes(
    p,
    (n) =>
      `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`,
  ).slice(0, top))
    console.log(fmt(r));
}

main();
