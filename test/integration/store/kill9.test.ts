/**
 * A process that opens an incident and records its page is killed with SIGKILL; a new process on the same
 * file finds the incident open and the page recorded (so it neither loses it nor pages twice).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IncidentStore } from '../../../collector/store/incident-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'netmon-kill9-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('incident store under kill -9', () => {
  it('keeps every committed incident and notification', async () => {
    const file = join(dir, 'incidents.db');
    const script = join(dir, 'writer.mts');
    writeFileSync(
      script,
      `import { IncidentStore } from ${JSON.stringify(new URL('../../../collector/store/incident-store.ts', import.meta.url).pathname)};
const s = new IncidentStore(${JSON.stringify(file)});
let n = 0;
for (;;) {
  const id = 'i' + n;
  s.open({ id, kind: 'device_down', key: 'device:d' + n, severity: 'high', openedAt: Date.now(), data: {} });
  s.markSent(id, 'webhook:oncall', 'firing', Date.now());
  process.stdout.write(id + '\\n');
  n++;
  await new Promise((r) => setTimeout(r, 5));
}
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acknowledged: string[] = [];
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (b: Buffer) => {
        acknowledged.push(...b.toString().split('\n').filter(Boolean));
        if (acknowledged.length >= 50) resolve();
      });
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const s = new IncidentStore(file);
    const open = new Set(s.unresolved().map((i) => i.id));
    for (const id of acknowledged) {
      expect(open.has(id), id).toBe(true);
      expect(s.wasSent(id, 'webhook:oncall', 'firing'), id).toBe(true);
      expect(s.markSent(id, 'webhook:oncall', 'firing', Date.now()), `${id} would page twice`).toBe(false);
    }
    s.close();
  });
});
