/**
 * Acknowledging from Telegram, over the whole running monitor: the simulator on loopback, real InfluxDB,
 * the runtime as `npm start` builds it, and a Bot API peer the monitor long-polls for button presses.
 * Timeline:
 *   t0   every device up; nothing sent
 *   t1   the puskesmas router is cut: one page on Telegram with buttons (Tangani / Ack, ...), and one on
 *        WhatsApp by each channel (Cloud API template, Fonnte-style gateway)
 *   t2   a stranger presses Ack: refused and told so; the incident stays open
 *   t3   Wayan (a configured operator) presses Ack: the incident is acknowledged by him "via Telegram" in its
 *        timeline, the press answered, the page edited (who, when; no Ack button any more)
 *   t4   restored: one recovery message, and the page edited: recovered, no buttons; the recovery on WhatsApp
 *   t5   the banjar router is cut; Wayan presses Silence 1 h, then Resolve: a silence of one hour on the
 *        site by him, the incident resolved by him via Telegram, its recovery sent and the page edited
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../collector/core/log.ts';
import { Secret } from '../../collector/core/secret.ts';
import type { Device, Inventory, Site } from '../../collector/core/types.ts';
import { startRuntime, type Runtime } from '../../collector/runtime.ts';
import { FleetSimulator } from '../../simulator/fleet.ts';
import { syntheticInventory } from '../../simulator/synthetic-inventory.ts';
import { startTestInfluxd, type TestServer } from '../support/influx.ts';
import { testMonitorConfig } from '../support/monitor-config.ts';
import { freeUdpPort, waitFor } from '../support/ports.ts';
import { startTelegramPeer, type TelegramPeer } from '../support/telegram-peer.ts';
import {
  startCloudPeer,
  startGatewayPeer,
  type CloudPeer,
  type GatewayPeer,
} from '../support/whatsapp-peers.ts';

const TOKEN = '123456:e2e-telegram-ack-token';
const CHAT = '-1001234567890';
const WAYAN = 201234567;
const STRANGER = 209999999;

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let runtime: Runtime;
let tg: TelegramPeer;
let waCloud: CloudPeer;
let waGateway: GatewayPeer;
const WA_TOKEN = 'EAAG-e2e-wa-token';
const GW_TOKEN = 'fonnte-e2e-token';
let inventory: Inventory;
let pkm: Site;
let pkmRouter: Device;
let banjar: Site;
let banjarRouter: Device;
const log = memoryLogger('info');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-tg-ack-'));
  influx = await startTestInfluxd();
  const base = syntheticInventory({
    sites: 3,
    port: await freeUdpPort(),
    seed: 11,
    hostOctet: 151 + Math.floor(Math.random() * 8),
  });
  const sites = base.sites.map((s, i) =>
    i === 0
      ? { ...s, name: 'Puskesmas Petang I', category: 'puskesmas' as const, criticality: 'critical' as const }
      : i === 1
        ? { ...s, name: 'Banjar Kiadan', category: 'banjar' as const, criticality: 'low' as const }
        : s,
  );
  inventory = { ...base, sites };
  pkm = sites[0]!;
  banjar = sites[1]!;
  pkmRouter = inventory.devices.find((d) => d.siteId === pkm.id && d.role === 'router')!;
  banjarRouter = inventory.devices.find((d) => d.siteId === banjar.id && d.role === 'router')!;
  sim = new FleetSimulator({ inventory, seed: 11 });
  await sim.start();
  tg = await startTelegramPeer({ tokens: [TOKEN], chats: [CHAT] });
  waCloud = await startCloudPeer({
    token: WA_TOKEN,
    phoneNumberId: '106540352242922',
    templates: {
      netmon_gangguan: { language: 'id', params: 2 },
      netmon_pulih: { language: 'id', params: 2 },
    },
  });
  waGateway = await startGatewayPeer({ token: GW_TOKEN });

  const config = await testMonitorConfig({ inventory, influxUrl: influx.url, database: 'tgack', dir });
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
            operators: { [String(WAYAN)]: 'Wayan Sudarma' },
            updates: { kind: 'polling', pollTimeoutS: 2 },
            silenceMs: 3600_000,
          },
          {
            type: 'whatsapp-cloud',
            name: 'noc-wa',
            accessToken: new Secret(WA_TOKEN),
            phoneNumberId: '106540352242922',
            to: ['6281234567890'],
            templates: { firing: 'netmon_gangguan', resolved: 'netmon_pulih' },
            language: 'id',
            parameters: ['text_id', 'text_en'],
            baseUrl: waCloud.baseUrl,
            apiVersion: 'v21.0',
            timeoutMs: 5000,
          },
          {
            type: 'whatsapp-gateway',
            name: 'noc-fonnte',
            url: waGateway.url,
            headers: { Authorization: new Secret(GW_TOKEN) },
            to: ['6281234567890'],
            targetField: 'target',
            messageField: 'message',
            fields: { countryCode: '62' },
            maxChars: 4096,
            timeoutMs: 5000,
          },
        ],
      },
    },
    { log },
  );
});

afterAll(async () => {
  await runtime?.stop();
  await tg?.stop();
  await waCloud?.stop();
  await waGateway?.stop();
  await sim?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const up = (d: Device) => runtime.monitor.health.get(d.id)?.state === 'up';
let pageId = 0;

describe('acknowledge from Telegram, through the running monitor', () => {
  it('t0: everything up, nothing sent; the monitor long-polls the bot', async () => {
    await waitFor(() => inventory.devices.every(up), { timeoutMs: 20_000 });
    expect(tg.messages).toEqual([]);
    await waitFor(() => tg.waitingPolls() === 1, { what: 'a getUpdates long poll' });
  });

  it('t1: the router is cut: one page, with the buttons', async () => {
    sim.cutDevice(pkmRouter.id);
    await waitFor(() => tg.messages.length === 1, { timeoutMs: 15_000 });
    pageId = tg.messages[0]!.messageId;
    expect(tg.messages[0]!.plain).toContain('Puskesmas Petang I');
    await waitFor(() => waCloud.messages.length === 1 && waGateway.messages.length === 1, {
      what: 'the page on both WhatsApp channels',
    });
    expect(waCloud.messages[0]).toMatchObject({ to: '6281234567890', template: 'netmon_gangguan' });
    expect(waCloud.messages[0]!.parameters[0]).toContain('Puskesmas Petang I');
    expect(waGateway.messages[0]!.message).toMatch(/^\[KRITIS\] GANGGUAN[\s\S]*\[CRITICAL\] DOWN/);
    expect(
      tg
        .current(CHAT, pageId)
        ?.keyboard?.flat()
        .map((b) => b.text),
    ).toEqual(['✋ Tangani / Ack', '✅ Selesai / Resolve', '🔕 Bisukan 1 jam / Silence 1 h']);
  });

  it('t2: a stranger presses Ack: refused, told so, the incident stays open', async () => {
    const q = await tg.press({ chatId: CHAT, messageId: pageId, button: /Ack/, from: { id: STRANGER } });
    const answer = await waitFor(() => tg.answers.find((a) => a.callbackQueryId === q));
    expect(answer.showAlert).toBe(true);
    expect(answer.text).toMatch(/tidak terdaftar sebagai operator .* not a registered operator/);
    const [inc] = runtime.store.list({ status: ['open'], limit: 5 });
    expect(inc?.siteId).toBe(pkm.id);
    expect(inc?.status).toBe('open');
    expect(tg.edits).toEqual([]);
  });

  it('t3: Wayan presses Ack: acknowledged by him via Telegram, answered, the page edited', async () => {
    const q = await tg.press({ chatId: CHAT, messageId: pageId, button: /Ack/, from: { id: WAYAN } });
    const answer = await waitFor(() => tg.answers.find((a) => a.callbackQueryId === q));
    expect(answer).toMatchObject({ showAlert: false });
    expect(answer.text).toMatch(/^Ditangani: .* \/ Acknowledged$/);
    const [inc] = runtime.store.list({ status: ['acknowledged'], limit: 5 });
    expect(inc).toMatchObject({ siteId: pkm.id, acknowledgedBy: 'Wayan Sudarma' });
    expect(runtime.store.timeline(inc!.id)).toContainEqual(
      expect.objectContaining({ type: 'acknowledged', actor: 'Wayan Sudarma', note: 'via Telegram' }),
    );
    await waitFor(() => tg.edits.length === 1);
    const page = tg.current(CHAT, pageId)!;
    expect(page.plain).toMatch(/Ditangani oleh Wayan Sudarma via Telegram, \d\d:\d\d WITA/);
    expect(page.keyboard?.flat().map((b) => b.text)).toEqual([
      '✅ Selesai / Resolve',
      '🔕 Bisukan 1 jam / Silence 1 h',
    ]);
    // The offset is kept beside the incidents, so a restart does not replay the press.
    const state = JSON.parse(readFileSync(join(dir, 'telegram-noc-tg.json'), 'utf8')) as { offset?: number };
    expect(state.offset).toBeGreaterThan(700_000_000);
  });

  it('t4: restored: one recovery message, and the page marked recovered, its buttons gone', async () => {
    sim.restoreDevice(pkmRouter.id);
    await waitFor(() => tg.messages.length === 2, { timeoutMs: 15_000 });
    expect(tg.messages[1]!.plain).toMatch(/PULIH: .*Puskesmas Petang I/);
    await waitFor(() => waCloud.messages.length === 2 && waGateway.messages.length === 2, {
      what: 'the recovery on both WhatsApp channels',
    });
    expect(waCloud.messages[1]).toMatchObject({ template: 'netmon_pulih' });
    expect(waGateway.messages[1]!.message).toMatch(/^PULIH: [\s\S]*RECOVERED: /);
    // Each delivery is in the incident's ledger, under the channel's name.
    const [done] = runtime.store.list({ status: ['resolved'], limit: 1 });
    const sent = () => runtime.store.notificationsOf(done!.id).map((x) => `${x.channel} ${x.kind}`);
    const want = ['telegram:noc-tg', 'whatsapp-cloud:noc-wa', 'whatsapp-gateway:noc-fonnte'].flatMap((ch) => [
      `${ch} firing`,
      `${ch} resolved`,
    ]);
    await waitFor(() => want.every((w) => sent().includes(w)), {
      what: () => `the ledger to hold ${want.join(', ')} (has ${sent().join(', ')})`,
    });
    await waitFor(() => tg.current(CHAT, pageId)?.keyboard === undefined, { what: 'the page edited' });
    const page = tg.current(CHAT, pageId)!;
    expect(page.plain).toContain('Ditangani oleh Wayan Sudarma');
    expect(page.plain).toMatch(/🟢 PULIH \d\d:\d\d WITA, [\d-]+ \/ RECOVERED$/);
  });

  it('t5: silence 1 h then resolve, from Telegram: a silence by Wayan, the incident resolved by him', async () => {
    sim.cutDevice(banjarRouter.id);
    await waitFor(() => tg.messages.length === 3, { timeoutMs: 15_000 });
    const id = tg.messages[2]!.messageId;
    const [inc] = runtime.store.list({ status: ['open'], limit: 5 });
    expect(inc?.siteId).toBe(banjar.id);

    const q1 = await tg.press({ chatId: CHAT, messageId: id, button: /Silence/, from: { id: WAYAN } });
    await waitFor(() => tg.answers.some((a) => a.callbackQueryId === q1));
    const silence = runtime.monitor.silences().find((s) => s.scope.sites?.includes(banjar.id));
    expect(silence).toMatchObject({ createdBy: 'Wayan Sudarma' });
    expect(silence!.endsAt - silence!.startsAt).toBe(3600_000);
    expect(runtime.store.timeline(inc!.id)).toContainEqual(
      expect.objectContaining({ type: 'silenced', actor: 'Wayan Sudarma' }),
    );

    const q2 = await tg.press({ chatId: CHAT, messageId: id, button: /Resolve/, from: { id: WAYAN } });
    await waitFor(() => tg.answers.some((a) => a.callbackQueryId === q2));
    expect(runtime.store.get(inc!.id)).toMatchObject({ status: 'resolved' });
    expect(runtime.store.timeline(inc!.id)).toContainEqual(
      expect.objectContaining({ type: 'resolved', actor: 'Wayan Sudarma', note: 'via Telegram' }),
    );
    await waitFor(() => tg.messages.length === 4, { timeoutMs: 15_000, what: 'the recovery of a resolve' });
    await waitFor(() => tg.current(CHAT, id)?.keyboard === undefined, { what: 'the page edited' });
    const page = tg.current(CHAT, id)!;
    expect(page.plain).toContain('Dibisukan 1 jam oleh Wayan Sudarma');
    expect(page.plain).toContain('Diselesaikan oleh Wayan Sudarma');
    expect(page.plain).toContain('RECOVERED');
  });
});
