/**
 * The test agents (snmpsimd, snmpd) die with the test process that started them, even when it exits
 * without calling stop() (a failed beforeAll, a worker torn down): an orphaned snmpsimd spinning in its
 * GETBULK loop would take one of CI's two cores for the rest of the run.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { waitFor } from '../../support/ports.ts';

const run = promisify(execFile);
const support = (f: string): string => fileURLToPath(new URL(`../../support/${f}`, import.meta.url));

/** Gone, or a zombie waiting for a reaper: either way no longer running. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

it('a test process that exits without stop() takes its agents and their temp dirs with it', async () => {
  const script = `
    const { startSnmpsim } = await import(${JSON.stringify(support('snmpsim.ts'))});
    const { startSnmpd } = await import(${JSON.stringify(support('snmpd.ts'))});
    const sim = await startSnmpsim({ lab: '1.3.6.1.2.1.1.3.0|67|100\\n' }, { recordings: false });
    const agent = await startSnmpd();
    console.log(JSON.stringify({ pids: [sim.pid, agent.pid], dirs: [sim.dir, agent.dir] }));
    process.exit(0);
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    timeout: 60_000,
  });
  const { pids, dirs } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    pids: number[];
    dirs: string[];
  };
  expect(pids).toHaveLength(2);
  for (const pid of pids) expect(typeof pid).toBe('number');
  for (const dir of dirs) expect(existsSync(dir), dir).toBe(false);
  await waitFor(() => pids.every((pid) => !running(pid)), {
    timeoutMs: 10_000,
    intervalMs: 50,
    what: 'the orphaned agents to be killed',
  });
});
