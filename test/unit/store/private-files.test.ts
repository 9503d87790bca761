/**
 * Issue #10, file modes: what holds operators' notes (incidents.db and its -wal/-shm), telemetry (the
 * buffer segments) or secrets (the inventory's MQTT password hashes) is 0600 in 0700 folders, whether the
 * monitor creates it or finds it left 0644 / 0755 by an older version. Real files in a temp folder.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePrivateDir } from '../../../collector/core/private-fs.ts';
import type { Sample } from '../../../collector/core/types.ts';
import { DiskQueue } from '../../../collector/sinks/disk-queue.ts';
import { IncidentStore } from '../../../collector/store/incident-store.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { tightenInventory } from '../../../collector/runtime.ts';
import { testDevice } from '../../support/fixtures.ts';

const mode = (p: string): string => (statSync(p).mode & 0o7777).toString(8);

let root: string;
let oldUmask: number;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'netmon-modes-'));
  // The usual umask of a service account: what made everything 0644 / 0755 before.
  oldUmask = process.umask(0o022);
});
afterEach(() => {
  process.umask(oldUmask);
  rmSync(root, { recursive: true, force: true });
});

const sample = (i: number): Sample => ({
  measurement: 'device',
  tags: { device: `d${i}` },
  fields: { reachable: 1 },
  timeMs: 1_000 + i,
});

const openIncident = (store: IncidentStore, id: string): void => {
  store.open({ id, kind: 'device', key: `device:${id}`, severity: 'high', openedAt: 1_000, data: {} });
};

describe('incident store files', () => {
  it('creates the folder 0700 and the database, -wal and -shm 0600', () => {
    const file = join(root, 'var', 'incidents.db');
    const store = new IncidentStore(file);
    try {
      openIncident(store, 'inc-1'); // a write: WAL mode has made the -wal file by now
      expect(readdirSync(join(root, 'var')).sort()).toEqual([
        'incidents.db',
        'incidents.db-shm',
        'incidents.db-wal',
      ]);
      expect(mode(join(root, 'var'))).toBe('700');
      for (const f of ['incidents.db', 'incidents.db-wal', 'incidents.db-shm'])
        expect([f, mode(join(root, 'var', f))]).toEqual([f, '600']);
    } finally {
      store.close();
    }
  });

  it('tightens a database, its -wal and -shm and its folder left world-readable', () => {
    const dir = join(root, 'var');
    const file = join(dir, 'incidents.db');
    const before = new IncidentStore(file);
    openIncident(before, 'inc-1');
    // An older version's modes, while the -wal and -shm are still there (the process "crashed").
    for (const f of ['incidents.db', 'incidents.db-wal', 'incidents.db-shm']) chmodSync(join(dir, f), 0o644);
    chmodSync(dir, 0o755);
    const after = new IncidentStore(file);
    try {
      expect(after.get('inc-1')?.status).toBe('open');
      expect(mode(dir)).toBe('700');
      for (const f of ['incidents.db', 'incidents.db-wal', 'incidents.db-shm'])
        expect([f, mode(join(dir, f))]).toEqual([f, '600']);
    } finally {
      after.close();
      before.close();
    }
  });
});

describe('sample buffer files', () => {
  it('creates its folder 0700 and segments and the ack file 0600', () => {
    const dir = join(root, 'var', 'buffer');
    const q = new DiskQueue({ dir, maxBytes: 1 << 20 });
    q.append([sample(1)]);
    q.append([sample(2)]);
    const b = q.peek();
    if (!b) throw new Error('nothing queued');
    q.ack(b); // one of two lines read: the ack file is written
    expect(mode(dir)).toBe('700');
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['ack', expect.stringMatching(/^seg-\d+\.jsonl$/)]);
    for (const f of files) expect([f, mode(join(dir, f))]).toEqual([f, '600']);
  });

  it('tightens segments, the ack file and the folder found world-readable at start', () => {
    const dir = join(root, 'buffer');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'seg-000000000001.jsonl'), JSON.stringify([sample(1), sample(2)]) + '\n', {
      mode: 0o644,
    });
    writeFileSync(join(dir, 'ack'), '1 0\n', { mode: 0o644 });
    const q = new DiskQueue({ dir, maxBytes: 1 << 20 });
    expect(q.samples).toBe(2); // the data is still read
    expect(mode(dir)).toBe('700');
    expect(mode(join(dir, 'seg-000000000001.jsonl'))).toBe('600');
    expect(mode(join(dir, 'ack'))).toBe('600');
  });
});

describe('ensurePrivateDir', () => {
  it('leaves a shared folder alone: sticky (like /tmp) or a git checkout', () => {
    const sticky = join(root, 'shared');
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    ensurePrivateDir(sticky);
    expect(mode(sticky)).toBe('1777');
    const checkout = join(root, 'checkout');
    mkdirSync(join(checkout, '.git'), { recursive: true });
    chmodSync(checkout, 0o755);
    ensurePrivateDir(checkout);
    expect(mode(checkout)).toBe('755');
    // A folder of its own below them is still made private.
    ensurePrivateDir(join(sticky, 'netmon', 'buffer'));
    expect(mode(join(sticky, 'netmon'))).toBe('700');
    expect(mode(join(sticky, 'netmon', 'buffer'))).toBe('700');
  });
});

describe('the inventory at start', () => {
  it('is tightened to 0600 when it holds MQTT accounts, left alone when it holds none', () => {
    const withMqtt = join(root, 'with-mqtt.yaml');
    const without = join(root, 'without.yaml');
    writeFileSync(withMqtt, 'x', { mode: 0o644 });
    writeFileSync(without, 'x', { mode: 0o644 });
    const mqtt = { username: 'd1', passwordHash: 'scrypt$...', keepaliveS: 30 };
    const inventory = (m: boolean) => ({
      sites: [],
      devices: [{ ...testDevice('d1', 's1', 'router'), ...(m ? { mqtt } : {}) }],
    });
    const log = memoryLogger();
    tightenInventory({ inventoryFile: withMqtt, inventory: inventory(true) }, log);
    tightenInventory({ inventoryFile: without, inventory: inventory(false) }, log);
    expect(mode(withMqtt)).toBe('600');
    expect(mode(without)).toBe('644');
    expect(log.records).toEqual([]);
  });
});

describe('scripts/generate-inventory.ts', () => {
  it('writes the inventory 0600 in a 0700 folder, replacing a world-readable one', () => {
    const dir = join(root, 'var');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const out = join(dir, 'badung.inventory.yaml');
    writeFileSync(out, 'old\n', { mode: 0o644 });
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/generate-inventory.ts', '--out', out, '--seed', '1'],
      { encoding: 'utf8', env: { ...process.env }, timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(mode(out)).toBe('600');
    expect(mode(dir)).toBe('700');
    expect(readdirSync(dir)).toEqual(['badung.inventory.yaml']);
  });
});
