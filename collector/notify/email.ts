/**
 * E-mail over SMTP (nodemailer; the only file that imports it). One message per notification: a bilingual
 * subject, a plain-text body (Bahasa Indonesia, then English) with an HTML alternative, and threading headers
 * so a mail client shows an outage and its recovery as one conversation:
 *
 *   firing    Message-ID <netmon.<hash(incident)>.firing@<domain of from>>   Subject S
 *   resolved  Message-ID <netmon.<hash(incident)>.resolved@…>  In-Reply-To/References the firing one,
 *             Subject "Re: S"  (Gmail threads only on an equal subject, "Re:" allowed, plus References)
 *
 * The Message-ID depends only on the incident and its status, so a retry that did reach the mailbox after all
 * is the same message to the client, not a second page.
 *
 * Failures (RFC 5321 §4.2.1: 4yz transient, 5yz permanent): connection refused, timeouts, dropped connections
 * and 4xx replies are retryable; 5xx replies, authentication and TLS failures are not. When some recipients
 * are refused and others accept the message it counts as sent (retrying would page the others twice) and the
 * refusals are logged.
 */
import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { NotifyError, errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Secret } from '../core/secret.ts';
import type { Notification } from './notification.ts';
import type { Notifier } from './notifier.ts';

/**
 * implicit: TLS from the first byte (port 465, RFC 8314); starttls: upgrade required, refuse to send in clear
 * (587); opportunistic: upgrade when the server offers it; none: never upgrade (a relay on the same host).
 */
export type SmtpTls = 'implicit' | 'starttls' | 'opportunistic' | 'none';

export interface EmailOptions {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly tls: SmtpTls;
  /** Extra CA certificates (PEM) for a server with a private CA; certificates are always verified. */
  readonly ca?: string | Buffer | undefined;
  /** Hostname checked against the certificate when `host` is an address. */
  readonly servername?: string | undefined;
  readonly auth?: { readonly user: string; readonly password: Secret } | undefined;
  /** 'netmon@badungkab.go.id' or 'Badung NetMon <netmon@badungkab.go.id>'. */
  readonly from: string;
  readonly to: readonly string[];
  /** Connect, greeting and per-command timeout. Default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** Parallel SMTP connections (a burst of alerts queues behind them). Default 2. */
  readonly maxConnections?: number | undefined;
  /** Where refused recipients of a message that others did accept are reported. */
  readonly log?: Logger | undefined;
}

const SEVERITY = {
  critical: 'KRITIS/CRITICAL',
  high: 'TINGGI/HIGH',
  medium: 'SEDANG/MEDIUM',
  low: 'RENDAH/LOW',
} as const;

/** Errors of nodemailer without an SMTP reply that a later attempt can get past. */
const RETRYABLE_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);

export class EmailNotifier implements Notifier {
  readonly name: string;
  readonly #opts: EmailOptions;
  readonly #domain: string;
  #transport: Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options> | undefined;

  constructor(opts: EmailOptions) {
    this.name = `email:${opts.name}`;
    this.#opts = opts;
    this.#domain = addressDomain(opts.from) ?? 'badung-netmon.invalid';
  }

  async send(n: Notification): Promise<void> {
    const firingId = messageId(n.id, 'firing', this.#domain);
    const mail: Mail.Options = {
      from: this.#opts.from,
      to: [...this.#opts.to],
      subject: emailSubject(n),
      text: emailText(n),
      html: emailHtml(n),
      messageId: messageId(n.id, n.status, this.#domain),
      inReplyTo: n.status === 'resolved' ? firingId : undefined,
      references: n.status === 'resolved' ? [firingId] : undefined,
      priority:
        n.status === 'firing' && (n.severity === 'critical' || n.severity === 'high') ? 'high' : 'normal',
      headers: {
        // RFC 3834: no out-of-office replies to a monitor.
        'Auto-Submitted': 'auto-generated',
        'Content-Language': 'id, en',
        'X-Netmon-Incident': n.id,
        'X-Netmon-Status': n.status,
      },
    };
    let info: SMTPPool.SentMessageInfo;
    try {
      info = await this.#transporter().sendMail(mail);
    } catch (err) {
      throw classify(this.name, err);
    }
    if (info.rejected.length > 0) {
      this.#opts.log?.warn('e-mail recipients refused', {
        channel: this.name,
        alert: n.id,
        rejected: info.rejected,
        accepted: info.accepted.length,
        error: (info as { rejectedErrors?: unknown[] }).rejectedErrors?.map(errorMessage).join('; '),
      });
    }
  }

  /** Closes the pooled SMTP connections. Call after the dispatcher has stopped. */
  async close(): Promise<void> {
    this.#transport?.close();
    this.#transport = undefined;
  }

  #transporter(): Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options> {
    if (this.#transport) return this.#transport;
    const o = this.#opts;
    const timeout = o.timeoutMs ?? 30_000;
    this.#transport = nodemailer.createTransport({
      pool: true,
      maxConnections: o.maxConnections ?? 2,
      host: o.host,
      port: o.port,
      secure: o.tls === 'implicit',
      requireTLS: o.tls === 'starttls',
      ignoreTLS: o.tls === 'none',
      tls: { ca: o.ca, servername: o.servername, minVersion: 'TLSv1.2' },
      auth: o.auth ? { user: o.auth.user, pass: o.auth.password.reveal() } : undefined,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      dnsTimeout: timeout,
      logger: false,
    });
    return this.#transport;
  }
}

function classify(name: string, err: unknown): NotifyError {
  const e = err as { code?: unknown; responseCode?: unknown; rejectedErrors?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const reply = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  // All recipients refused: retry when any refusal was transient (a greylisting 450/451, a full mailbox 452).
  const replies = Array.isArray(e.rejectedErrors)
    ? e.rejectedErrors
        .map((r) => (r as { responseCode?: unknown }).responseCode)
        .filter((c) => typeof c === 'number')
    : [];
  const transient = (c: number): boolean => c >= 400 && c < 500;
  // nodemailer reports a failed handshake or an unverifiable certificate as ESOCKET: tell them apart, they
  // are configuration (a CA, a hostname, TLS on the server) and stay until someone fixes it.
  const tls = code === 'ETLS' || isTlsFailure(err);
  const retryable =
    reply !== undefined || replies.length > 0
      ? replies.some(transient) || (reply !== undefined && transient(reply))
      : !tls && code !== undefined && RETRYABLE_CODES.has(code);
  const kind = reply !== undefined ? `SMTP ${reply}` : tls ? 'TLS' : (code ?? 'error');
  return new NotifyError('email_failed', `${name}: ${kind}: ${errorMessage(err)}`, { retryable, cause: err });
}

function isTlsFailure(err: unknown): boolean {
  const e = err as { library?: unknown; message?: unknown };
  return (
    typeof e.library === 'string' ||
    (typeof e.message === 'string' && /certificate|SSL routines|altnames|TLS/i.test(e.message))
  );
}

/** A Message-ID for an incident's firing or resolved message (RFC 5322 §3.6.4: dot-atom-text, no '@' or ':'). */
export function messageId(incidentId: string, status: Notification['status'], domain: string): string {
  const h = createHash('sha256').update(incidentId).digest('hex').slice(0, 32);
  return `<netmon.${h}.${status}@${domain}>`;
}

/**
 * "[KRITIS/CRITICAL] Puskesmas Petang I GANGGUAN/DOWN — router pkm-petang-1-r1, Belok Sidan, Kec. Petang".
 * Built only from what the firing and the resolved notification share, so the recovery's "Re: …" matches.
 */
export function emailSubject(n: Notification): string {
  const sev = SEVERITY[n.severity];
  let s: string;
  if (n.site) {
    const what = n.device ? `${n.device.role} ${n.device.id}, ` : '';
    s = `[${sev}] ${n.site.name} GANGGUAN/DOWN — ${what}${n.site.desa}, Kec. ${n.site.kecamatan}`;
  } else if (n.area) {
    s = `[${sev}] GANGGUAN MASSAL/MASS OUTAGE — Kec. ${n.area.kecamatan}`;
  } else {
    s = `[${sev}] GANGGUAN/DOWN — ${n.id}`;
  }
  return n.status === 'resolved' ? `Re: ${s}` : s;
}

export function emailText(n: Notification): string {
  return [
    n.text.id,
    '',
    n.text.en,
    '',
    '-- ',
    `Insiden/Incident: ${n.id}`,
    `Mulai/Since: ${n.startedAt}${n.resolvedAt ? `   Pulih/Resolved: ${n.resolvedAt}` : ''}`,
    'badung-netmon',
    '',
  ].join('\n');
}

export function emailHtml(n: Notification): string {
  const para = (lang: string, t: string): string => {
    let h = escapeHtml(t).replace(/\n/g, '<br>\n');
    if (n.link) {
      const l = escapeHtml(n.link);
      h = h.split(l).join(`<a href="${l}">${l}</a>`);
    }
    return `<p lang="${lang}">${h}</p>`;
  };
  return [
    '<!doctype html><html><body>',
    para('id', n.text.id),
    '<hr>',
    para('en', n.text.en),
    `<p style="color:#666;font-size:small">Insiden/Incident: ${escapeHtml(n.id)}<br>badung-netmon</p>`,
    '</body></html>',
    '',
  ].join('\n');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The domain of 'a@b.c' or 'Name <a@b.c>'. */
export function addressDomain(address: string): string | undefined {
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(address.trim());
  return m?.[1];
}
