/**
 * Every command prints its usage on --help (and -h) and exits 0: no raw error, no stack trace, nothing
 * started or written. Each is run the way the README runs it (node --import tsx FILE, or bash for scripts).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
/** Each command starts node with tsx, several at once on a shared CPU. */
const SLOW_MS = 120_000;

/** `names`: how the usage names the command, when not by its file. */
const COMMANDS: readonly { file: string; names?: string; mentions?: readonly string[] }[] = [
  { file: 'collector/main.ts', mentions: ['--config', '--check'] },
  { file: 'simulator/main.ts', mentions: ['--inventory', '--control'] },
  { file: 'broker/main.ts', mentions: ['--config'] },
  { file: 'scripts/check-demo.ts', mentions: ['--wait', '--api', '--influx'] },
  { file: 'scripts/report.ts', mentions: ['--month', '--from', '--to', '--format', 'var/reports/'] },
  { file: 'scripts/report.sh', mentions: ['--month', '--from', '--to'] },
  { file: 'scripts/make-token.ts', mentions: ['--name', '--role'] },
  { file: 'scripts/generate-inventory.ts', mentions: ['--out'] },
  { file: 'scripts/import-sites.ts', mentions: ['--out', '--merge'] },
  { file: 'scripts/bench-snmp.ts', names: 'npm run bench', mentions: ['--seconds'] },
  { file: 'scripts/bench-mqtt.ts', mentions: ['--devices'] },
  { file: 'scripts/bench-report.ts', mentions: ['--outages'] },
  { file: 'scripts/bench-status.ts', mentions: ['--seconds', '--rate'] },
  { file: 'scripts/bench-http-idle.ts', mentions: ['--sockets', '--addresses'] },
  { file: 'scripts/make-user.ts', mentions: ['--name', '--role'] },
  { file: 'scripts/lib/servers/influxd.ts', mentions: ['--data-dir'] },
  { file: 'dashboards/build.ts', mentions: ['--check'] },
];

function run(file: string, flag: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, args] = file.endsWith('.sh')
    ? ['bash', [file, flag]]
    : [process.execPath, ['--import', 'tsx', file, flag]];
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('--help', () => {
  it.concurrent.each(COMMANDS)(
    '$file --help prints its usage and exits 0',
    async ({ file, names, mentions }) => {
      const r = await run(file, '--help');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^usage: /);
      expect(r.stdout).toContain(names ?? file.replace(/\.sh$/, '.ts'));
      for (const m of mentions ?? []) expect(r.stdout).toContain(m);
      expect(r.stderr).not.toMatch(/Error|\n\s+at /);
    },
    SLOW_MS,
  );

  it(
    '-h does the same (collector, check-demo)',
    async () => {
      for (const file of ['collector/main.ts', 'scripts/check-demo.ts']) {
        const r = await run(file, '-h');
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/^usage: /);
      }
    },
    SLOW_MS,
  );

  it(
    'an unknown option is a usage error (exit 2), with the usage, without a stack trace',
    async () => {
      for (const file of [
        'collector/main.ts',
        'simulator/main.ts',
        'broker/main.ts',
        'scripts/check-demo.ts',
      ]) {
        const r = await run(file, '--nope');
        expect(r.code, `${file}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toContain("'--nope'");
        expect(r.stderr).toContain('usage: ');
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    },
    SLOW_MS,
  );
});
