/**
 * EmailNotifier against a real SMTP server started here (smtp-server, test/support/smtp-peer.ts), through the
 * real Dispatcher: the message on-call staff read, threading of an outage and its recovery, STARTTLS with a
 * verified certificate, and which SMTP failures are retried.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import { Dispatcher } from '../../../collector/notify/dispatcher.ts';
import { EmailNotifier, type EmailOptions } from '../../../collector/notify/email.ts';
import { buildNotification, type Notification } from '../../../collector/notify/notification.ts';
import { testSite } from '../../support/fixtures.ts';
import { LINK, router, site, startedAt, alert } from '../../support/outage-fixture.ts';
import { freeTcpPort } from '../../support/ports.ts';
import { startSmtpPeer, type SmtpPeer } from '../../support/smtp-peer.ts';

const POLICY = { attempts: 4, baseMs: 10, maxMs: 50 };
const USER = 'netmon@badungkab.go.id';
const PASS = 'smtp-pass-Xq83';

const firing = buildNotification(alert, site, router, LINK);
const resolved = buildNotification(
  { ...alert, status: 'resolved', resolvedAt: startedAt + 65 * 60_000 },
  site,
  router,
  LINK,
);

let dir: string;
let cert: Buffer;
let key: Buffer;
let peer: SmtpPeer;
const notifiers: EmailNotifier[] = [];
const peers: SmtpPeer[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-smtp-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  cert = readFileSync(join(dir, 'cert.pem'));
  key = readFileSync(join(dir, 'key.pem'));
  peer = await startSmtpPeer({ auth: { user: USER, pass: PASS } });
  peers.push(peer);
});
afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.close()));
  peer.reset();
});
afterAll(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const mailer = (over: Partial<EmailOptions> = {}, to = peer): EmailNotifier => {
  const n = new EmailNotifier({
    name: 'noc',
    host: to.host,
    port: to.port,
    tls: 'none',
    auth: { user: USER, password: new Secret(PASS) },
    from: 'Badung NetMon <netmon@badungkab.go.id>',
    to: ['noc@badungkab.go.id', 'kominfo-oncall@badungkab.go.id'],
    timeoutMs: 3000,
    ...over,
  });
  notifiers.push(n);
  return n;
};

const dispatchOnce = async (n: Notification, e: EmailNotifier) => {
  const log = memoryLogger();
  const d = new Dispatcher([e], systemClock, log, POLICY);
  d.dispatch(n);
  await d.stop();
  return { d, log };
};

describe('EmailNotifier: the message', () => {
  it('a bilingual subject and body with site, category, desa, kecamatan, since, affected and the link', async () => {
    await mailer().send(firing);
    expect(peer.mails).toHaveLength(1);
    const m = peer.mails[0]!;
    expect(m.from).toBe('netmon@badungkab.go.id');
    expect(m.to).toEqual(['noc@badungkab.go.id', 'kominfo-oncall@badungkab.go.id']);
    expect(m.user).toBe(USER);
    expect(m.subject).toBe(
      '[KRITIS/CRITICAL] Puskesmas Petang I GANGGUAN/DOWN — router pkm-petang-1-r1, Belok Sidan, Kec. Petang',
    );
    const [id = '', en = ''] = m.text.split('[CRITICAL] DOWN');
    expect(id).toContain(
      '[KRITIS] GANGGUAN: Router pkm-petang-1-r1 di Puskesmas Petang I (Puskesmas, Belok Sidan, Kec. Petang)',
    );
    expect(id).toContain('sejak 14:05 WITA, 22-11-2026');
    expect(id).toContain('1 lokasi lain ikut terputus: Banjar Kiadan');
    expect(en).toContain('at Puskesmas Petang I (community health centre, Belok Sidan, Petang district)');
    expect(en).toContain('since 14:05 WITA, 22-11-2026');
    expect(en).toContain('1 other site(s) lost their link: Banjar Kiadan');
    expect(m.text).toContain(`${LINK}/sites/pkm-petang-1`);
    expect(m.text).toContain(`Insiden/Incident: ${firing.id}`);
    expect(m.html).toContain(`<a href="${LINK}/sites/pkm-petang-1">`);
    expect(m.html).toContain('<p lang="id">');
    expect(m.headers.get('auto-submitted')).toBe('auto-generated');
    expect(m.headers.get('x-priority')).toMatch(/^1/);
    expect(m.headers.get('x-netmon-status')).toBe('firing');
    expect(m.headers.get('message-id')).toMatch(/^<netmon\.[0-9a-f]{32}\.firing@badungkab\.go\.id>$/);
  });

  it('the recovery answers the outage: In-Reply-To and References name it, the subject is "Re:" it', async () => {
    const e = mailer();
    await e.send(firing);
    await e.send(resolved);
    const [f, r] = peer.mails;
    const firingId = f?.headers.get('message-id');
    expect(firingId).toBeDefined();
    expect(r?.headers.get('message-id')).not.toBe(firingId);
    expect(r?.headers.get('in-reply-to')).toBe(firingId);
    expect(r?.headers.get('references')).toBe(firingId);
    expect(f?.headers.get('in-reply-to')).toBeUndefined();
    expect(r?.subject).toBe(`Re: ${f?.subject ?? ''}`);
    expect(r?.text).toMatch(
      /^PULIH: Router pkm-petang-1-r1 di Puskesmas Petang I .* setelah gangguan 1 jam 5 menit/,
    );
    expect(r?.text).toContain('RECOVERED: Router pkm-petang-1-r1 at Puskesmas Petang I');
    expect(r?.headers.get('x-priority')).toBeUndefined();
  });

  it('a retried message is the same message: the Message-ID depends on incident and status only', async () => {
    const e = mailer();
    await e.send(firing);
    await mailer().send(firing);
    expect(peer.mails[1]?.headers.get('message-id')).toBe(peer.mails[0]?.headers.get('message-id'));
  });

  it('an area outage: subject by kecamatan, threaded the same way', async () => {
    const inc = {
      id: 'area:Petang@2026-11-22T06:05:00.000Z',
      kecamatan: 'Petang',
      startedAt,
      totalSites: 120,
      sites: [
        { ...site, criticality: 'critical' as const },
        testSite('bjr-kiadan', { name: 'Banjar Kiadan' }),
      ],
    };
    const { buildAreaNotification } = await import('../../../collector/notify/notification.ts');
    const e = mailer();
    await e.send(buildAreaNotification({ ...inc, status: 'firing' }, LINK));
    await e.send(
      buildAreaNotification({ ...inc, status: 'resolved', resolvedAt: startedAt + 3_600_000 }, LINK),
    );
    expect(peer.mails.map((m) => m.subject)).toEqual([
      '[KRITIS/CRITICAL] GANGGUAN MASSAL/MASS OUTAGE — Kec. Petang',
      'Re: [KRITIS/CRITICAL] GANGGUAN MASSAL/MASS OUTAGE — Kec. Petang',
    ]);
    expect(peer.mails[0]?.text).toContain('Termasuk layanan penting: Puskesmas Petang I');
    expect(peer.mails[1]?.headers.get('in-reply-to')).toBe(peer.mails[0]?.headers.get('message-id'));
  });
});

describe('EmailNotifier: TLS', () => {
  it('STARTTLS required: upgrades and verifies the server certificate against the given CA', async () => {
    const tlsPeer = await startSmtpPeer({ tls: { key, cert } });
    peers.push(tlsPeer);
    await mailer({ tls: 'starttls', ca: cert, auth: undefined }, tlsPeer).send(firing);
    expect(tlsPeer.mails).toHaveLength(1);
    expect(tlsPeer.mails[0]?.secure).toBe(true);
  });

  it('implicit TLS (port 465 style)', async () => {
    const tlsPeer = await startSmtpPeer({ tls: { key, cert, implicit: true } });
    peers.push(tlsPeer);
    await mailer({ tls: 'implicit', ca: cert, auth: undefined }, tlsPeer).send(firing);
    expect(tlsPeer.mails[0]?.secure).toBe(true);
  });

  it('STARTTLS required but not offered, or a certificate it cannot verify: not sent, not retried', async () => {
    await expect(mailer({ tls: 'starttls' }).send(firing)).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('TLS') as string,
    });
    const tlsPeer = await startSmtpPeer({ tls: { key, cert } });
    peers.push(tlsPeer);
    const err = await mailer({ tls: 'starttls', auth: undefined }, tlsPeer)
      .send(firing)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toMatch(/TLS: .*self-signed certificate/);
    expect(peer.mails).toHaveLength(0);
    expect(tlsPeer.mails).toHaveLength(0);
  });
});

describe('EmailNotifier: failures, through the Dispatcher', () => {
  it('421 at the greeting twice, then accepted: exactly one message delivered', async () => {
    peer.failNext(
      { stage: 'connect', code: 421, message: 'Too many connections, try later' },
      { stage: 'connect', code: 421, message: 'Too many connections, try later' },
    );
    const { d } = await dispatchOnce(firing, mailer());
    expect(peer.mails).toHaveLength(1);
    expect(peer.stats.connections).toBe(3);
    expect(d.stats()).toEqual({ sent: 1, failed: 0, retries: 2 });
  });

  it('451 after DATA (a local error, try again) is retried', async () => {
    peer.failNext({ stage: 'data', code: 451, message: 'Local error in processing' });
    const { d } = await dispatchOnce(firing, mailer());
    expect(peer.stats.transactions).toBe(2);
    expect(peer.mails).toHaveLength(1);
    expect(d.stats()).toMatchObject({ sent: 1, retries: 1 });
  });

  it('550 for every recipient: one attempt, the failure logged with the reply', async () => {
    peer.failNext(
      { stage: 'rcpt', code: 550, message: 'Mailbox unavailable' },
      { stage: 'rcpt', code: 550, message: 'Mailbox unavailable' },
    );
    const { d, log } = await dispatchOnce(firing, mailer());
    expect(peer.stats.transactions).toBe(1);
    expect(peer.mails).toHaveLength(0);
    expect(d.stats()).toEqual({ sent: 0, failed: 1, retries: 0 });
    const failed = log.records.find((r) => r.msg === 'notification failed');
    expect(failed).toMatchObject({ channel: 'email:noc', alert: firing.id });
    expect(String(failed?.error)).toContain('SMTP 550');
  });

  it('554 after DATA: one attempt', async () => {
    peer.failNext({ stage: 'data', code: 554, message: 'Message rejected as spam' });
    const { d } = await dispatchOnce(firing, mailer());
    expect(peer.stats.transactions).toBe(1);
    expect(d.stats()).toEqual({ sent: 0, failed: 1, retries: 0 });
  });

  it('one recipient refused, the other accepts: sent once, the refusal logged', async () => {
    peer.refuseRecipient('kominfo-oncall@badungkab.go.id', 550, 'No such user');
    const log = memoryLogger();
    const e = mailer({ log });
    const d = new Dispatcher([e], systemClock, log, POLICY);
    d.dispatch(firing);
    await d.stop();
    expect(peer.mails.map((m) => m.to)).toEqual([['noc@badungkab.go.id']]);
    expect(d.stats()).toEqual({ sent: 1, failed: 0, retries: 0 });
    expect(log.records.find((r) => r.msg === 'e-mail recipients refused')).toMatchObject({
      rejected: ['kominfo-oncall@badungkab.go.id'],
      accepted: 1,
    });
  });

  it('a wrong password (535): not retried, and the password is nowhere in the log', async () => {
    const { d, log } = await dispatchOnce(
      firing,
      mailer({ auth: { user: USER, password: new Secret('wrong-Pw-991') } }),
    );
    expect(peer.stats.authFailures).toBe(1);
    expect(d.stats()).toEqual({ sent: 0, failed: 1, retries: 0 });
    const logged = JSON.stringify(log.records);
    expect(logged).toContain('535');
    expect(logged).not.toContain('wrong-Pw-991');
  });

  it('connection refused: retryable', async () => {
    const port = await freeTcpPort();
    const err = await mailer({ port })
      .send(firing)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, code: 'email_failed' });
    expect((err as Error).message).toMatch(/ECONNECTION|ECONNREFUSED|ESOCKET/);
  });
});
