/**
 * On-call over the whole running monitor: the simulator on loopback, real InfluxDB, and real peers for
 * every channel: a Bot API server for Telegram, an SMTP server for e-mail, Debian's Mosquitto for MQTT.
 * Routing: critical incidents page the NOC on Telegram and BPBD's MQTT topic, and escalate to the head of
 * the office by e-mail when the clock runs out unacknowledged. Timeline:
 *   t0   every device up; nothing sent
 *   t1   the puskesmas router is cut: one page on Telegram and MQTT (both languages, site, desa,
 *        kecamatan, since, affected), nothing by e-mail
 *   t2   its (test-sized) clock runs out: the breach is recorded, one escalation e-mail to the next contact
 *   t3   restored: one recovery to everyone reached (Telegram, MQTT, e-mail threaded on the escalation)
 *   t4   a banjar router (low severity) is cut and acknowledged in time: no escalation, no breach
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../collector/core/log.ts';
import { Secret } from '../../collector/core/secret.ts';
import type { Device, Inventory, Site } from '../../collector/core/types.ts';
import type { Notification } from '../../collector/notify/notification.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import { startTestInfluxd, type TestServer } from '../support/influx.ts';
import { testMonitorConfig } from '../support/monitor-config.ts';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.ts';
import { waitForClockCheckAfter } from '../support/poll-rounds.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { startTelegramPeer, type TelegramPeer } from '../support/telegram-peer.ts';

const TOKEN = '123456:e2e-oncall-token';
const CHAT = '-1001234567890';
const CLOCK_MS = 4000;

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let runtime: Runtime;
let tg: TelegramPeer;
let smtp: SmtpPeer;
let mosq: Mosquitto;
let bpbd: MqttClient;
const onMqtt: Notification[] = [];
let inventory: Inventory;
let pkm: Site;
let pkmRouter: Device;
let banjar: Site;
let banjarRouter: Device;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-oncall-'));
  influx = await startTestInfluxd();
  const base = syntheticInventory({
    sites: 4,
    port: await freeUdpPort(),
    seed: 4,
    hostOctet: 141 + Math.floor(Math.random() * 8),
  });
  // Site 0 a puskesmas (critical), site 1 a banjar (low).
  const sites = base.sites.map((s, i) =>
    i === 0
      ? {
          ...s,
          name: 'Puskesmas Petang I',
          category: 'puskesmas' as const,
          criticality: 'critical' as const,
          kecamatan: 'Petang',
          desa: 'Belok Sidan',
        }
      : i === 1
        ? {
            ...s,
            name: 'Banjar Kiadan',
            category: 'banjar' as const,
            criticality: 'low' as const,
            kecamatan: 'Petang',
            desa: 'Pelaga',
          }
        : s,
  );
  inventory = { ...base, sites };
  pkm = sites[0]!;
  banjar = sites[1]!;
  pkmRouter = inventory.devices.find((d) => d.siteId === pkm.id && d.role === 'router')!;
  banjarRouter = inventory.devices.find((d) => d.siteId === banjar.id && d.role === 'router')!;
  sim = new FleetSimulator({ inventory, seed: 4 });
  await sim.start();

  tg = await startTelegramPeer({ tokens: [TOKEN], chats: [CHAT] });
  smtp = await startSmtpPeer();
  mosq = await startMosquitto(
    { 'netmon-collector': 'collector-secret', bpbd: 'bpbd-secret-1' },
    'netmon-collector',
  );
  bpbd = await mqtt.connectAsync(mosq.url, {
    username: 'netmon-collector',
    password: 'collector-secret',
    reconnectPeriod: 0,
    clientId: 'bpbd-reader',
  });
  bpbd.on('message', (_t, p) => onMqtt.push(JSON.parse(p.toString()) as Notification));
  await bpbd.subscribeAsync('netmon/v1/alerts', { qos: 1 });

  const config = await testMonitorConfig({ inventory, influxUrl: influx.url, database: 'oncall', dir });
  runtime = await startRuntime(
    {
      ...config,
      alerts: {
        ...config.alerts,
        linkBase: 'https://netmon.badungkab.go.id',
        channels: [
          {
            type: 'telegram',
            name: 'noc-tg',
            botToken: new Secret(TOKEN),
            chatId: CHAT,
            apiBase: tg.apiBase,
            disableLinkPreview: true,
            timeoutMs: 5000,
          },
          {
            type: 'email',
            name: 'head-mail',
            host: smtp.host,
            port: smtp.port,
            tls: 'none',
            from: 'netmon@badungkab.go.id',
            to: ['kadis@badungkab.go.id'],
            timeoutMs: 5000,
          },
          {
            type: 'mqtt',
            name: 'bpbd',
            url: mosq.url,
            username: 'netmon-collector',
            password: new Secret('collector-secret'),
            protocolVersion: 4,
            topic: 'netmon/v1/alerts',
            qos: 1,
            retain: false,
            timeoutMs: 5000,
          },
        ],
        oncall: {
          severityByCategory: {},
          clocksMs: { critical: CLOCK_MS, high: 3600_000, medium: 3600_000, low: CLOCK_MS },
          contacts: [
            { name: 'noc', channels: ['telegram:noc-tg', 'mqtt:bpbd'] },
            { name: 'kadis', channels: ['email:head-mail'] },
          ],
          routes: [{ match: {}, escalation: ['noc', 'kadis'] }],
        },
        clockCheckMs: 200,
      },
    },
    { log: memoryLogger('warn') },
  );
});

afterAll(async () => {
  await runtime?.stop();
  await bpbd?.endAsync();
  await mosq?.stop();
  await smtp?.stop();
  await tg?.stop();
  await sim?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const up = (d: Device) => runtime.monitor.health.get(d.id)?.state === 'up';

describe('on-call: routing, channels, clocks and escalation on real peers', () => {
  it('t0: everything up, nothing sent', async () => {
    await waitFor(() => inventory.devices.every(up), { timeoutMs: 20_000 });
    expect(tg.messages).toEqual([]);
    expect(smtp.mails).toEqual([]);
  });

  it('t1: the puskesmas router is cut: one page to the NOC on Telegram and MQTT, in both languages', async () => {
    sim.cutDevice(pkmRouter.id);
    await waitFor(() => tg.messages.length === 1 && onMqtt.length === 1, { timeoutMs: 15_000 });
    const text = tg.messages[0]!.plain;
    for (const s of [
      '[KRITIS]',
      '[CRITICAL]',
      'Puskesmas Petang I',
      'Belok Sidan',
      'Kec. Petang',
      'WITA',
      'https://netmon.badungkab.go.id/sites/',
    ])
      expect(text).toContain(s);
    expect(text).toMatch(/perangkat di belakangnya tidak terjangkau/);
    expect(onMqtt[0]).toMatchObject({
      status: 'firing',
      severity: 'critical',
      site: { id: pkm.id, kecamatan: 'Petang' },
    });
    expect(smtp.mails).toEqual([]);
  });

  it('t2: unacknowledged past its clock: breach recorded, one escalation e-mail to the next contact', async () => {
    await waitFor(() => smtp.mails.length === 1, { timeoutMs: CLOCK_MS + 5000 });
    const mail = smtp.mails[0]!;
    expect(mail.to).toEqual(['kadis@badungkab.go.id']);
    expect(mail.text).toMatch(/\[ESKALASI 1 → kadis\] Belum ditanggapi/);
    expect(mail.text).toMatch(/\[ESCALATION 1 → kadis\] Not acknowledged/);
    const [inc] = runtime.store.list({ status: ['open'], limit: 5 });
    expect(inc?.clockBreachedAt).toBe(inc!.openedAt + CLOCK_MS);
    expect(inc?.escalationLevel).toBe(1);
    // The chain ends at kadis: no more messages while it stays open. A clock check after the time a
    // second escalation would fall due (two clocks after the start) has decided: still level 1.
    await waitForClockCheckAfter(runtime.monitor, inc!.openedAt + 2 * CLOCK_MS + 1, {
      what: 'past a second escalation',
    });
    expect(runtime.store.get(inc!.id)?.escalationLevel).toBe(1);
    expect(smtp.mails).toHaveLength(1);
    expect(tg.messages).toHaveLength(1);
  });

  it('t3: restored: one recovery to everyone the incident reached', async () => {
    sim.restoreDevice(pkmRouter.id);
    await waitFor(() => tg.messages.length === 2 && smtp.mails.length === 2 && onMqtt.length === 2, {
      timeoutMs: 15_000,
    });
    expect(tg.messages[1]!.plain).toMatch(/PULIH: .*Puskesmas Petang I/);
    expect(tg.messages[1]!.plain).toMatch(/RECOVERED: /);
    expect(onMqtt[1]?.status).toBe('resolved');
    expect(smtp.mails[1]!.subject).toMatch(/^Re: /);
  });

  it('t4: a banjar cut acknowledged in time neither escalates nor breaches', async () => {
    sim.cutDevice(banjarRouter.id);
    await waitFor(() => tg.messages.length === 3, { timeoutMs: 15_000 });
    const [inc] = runtime.store.list({ status: ['open'], limit: 5 });
    expect(inc?.siteId).toBe(banjar.id);
    expect(runtime.monitor.acknowledge(inc!.id, 'wayan', 'checking the ONT').outcome).toBe('ok');
    // A clock check after its clock ran out has decided: no breach, no escalation.
    await waitForClockCheckAfter(runtime.monitor, inc!.openedAt + CLOCK_MS + 1, { what: 'past its clock' });
    expect(runtime.store.get(inc!.id)).toMatchObject({ escalationLevel: 0 });
    expect(smtp.mails).toHaveLength(2);
    expect(runtime.store.get(inc!.id)?.clockBreachedAt).toBeUndefined();
    sim.restoreDevice(banjarRouter.id);
    await waitFor(() => tg.messages.length === 4, { timeoutMs: 15_000 });
  });
});
