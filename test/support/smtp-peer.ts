/**
 * An SMTP server for the tests (smtp-server on 127.0.0.1, a free port): records each accepted message with
 * its envelope and a parse good enough to assert on (headers unfolded, RFC 2047 subjects decoded, multipart
 * text and HTML parts with quoted-printable or base64 undone), optionally requires AUTH, offers STARTTLS or
 * speaks TLS from the start when given a certificate, and answers with scripted 4xx/5xx replies at a chosen
 * step of the next transactions.
 */
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export type SmtpStage = 'connect' | 'mail' | 'rcpt' | 'data';

export interface ScriptedReply {
  readonly stage: SmtpStage;
  readonly code: number;
  readonly message: string;
}

export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly user: string | undefined;
  readonly secure: boolean;
  readonly raw: string;
  /** Lower-case header name → value (unfolded; the first of repeated headers). */
  readonly headers: ReadonlyMap<string, string>;
  readonly subject: string;
  readonly text: string;
  readonly html: string | undefined;
}

export interface SmtpPeer {
  readonly host: string;
  readonly port: number;
  readonly mails: ReceivedMail[];
  /** Transactions started (MAIL FROM commands), accepted or not. */
  readonly stats: { connections: number; transactions: number; authFailures: number };
  /** The next steps of these kinds fail like this, each reply used once, in order per stage. */
  failNext(...replies: ScriptedReply[]): void;
  /** Every RCPT TO this address is refused with `code`. */
  refuseRecipient(address: string, code: number, message: string): void;
  /** Forget mails, counts, scripted replies and refused recipients (between tests). */
  reset(): void;
  stop(): Promise<void>;
}

export async function startSmtpPeer(
  opts: {
    readonly auth?: { readonly user: string; readonly pass: string } | undefined;
    /** PEM key and certificate: STARTTLS is offered (implicit: TLS from the first byte). */
    readonly tls?: {
      readonly key: string | Buffer;
      readonly cert: string | Buffer;
      readonly implicit?: boolean;
    };
  } = {},
): Promise<SmtpPeer> {
  const mails: ReceivedMail[] = [];
  const stats = { connections: 0, transactions: 0, authFailures: 0 };
  const script: ScriptedReply[] = [];
  const refused = new Map<string, { code: number; message: string }>();
  const take = (stage: SmtpStage): Error | undefined => {
    const i = script.findIndex((r) => r.stage === stage);
    if (i < 0) return undefined;
    const [r] = script.splice(i, 1);
    return r && Object.assign(new Error(r.message), { responseCode: r.code });
  };

  const options: SMTPServerOptions = {
    logger: false,
    secure: opts.tls?.implicit ?? false,
    key: opts.tls?.key,
    cert: opts.tls?.cert,
    hideSTARTTLS: !opts.tls,
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: opts.auth ? [] : ['AUTH'],
    onConnect(_session, cb) {
      stats.connections++;
      cb(take('connect'));
    },
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass)
        return cb(null, { user: auth.username });
      stats.authFailures++;
      cb(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
    onMailFrom(_address, _session, cb) {
      stats.transactions++;
      cb(take('mail'));
    },
    onRcptTo(address, _session, cb) {
      const r = refused.get(address.address.toLowerCase());
      if (r) return cb(Object.assign(new Error(r.message), { responseCode: r.code }));
      cb(take('rcpt'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const failed = take('data');
        if (failed) return cb(failed);
        const raw = Buffer.concat(chunks).toString('utf8');
        const { from, to } = envelopeOf(session.envelope);
        mails.push({
          ...parseMail(raw),
          from,
          to,
          user: session.user as string | undefined,
          secure: session.secure,
          raw,
        });
        cb(null);
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => undefined); // a client dropping the connection is not the test's business
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: '127.0.0.1',
    port,
    mails,
    stats,
    failNext: (...r) => void script.push(...r),
    refuseRecipient: (address, code, message) => void refused.set(address.toLowerCase(), { code, message }),
    reset: () => {
      mails.length = 0;
      script.length = 0;
      refused.clear();
      Object.assign(stats, { connections: 0, transactions: 0, authFailures: 0 });
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function envelopeOf(e: { mailFrom: { address: string } | false; rcptTo: { address: string }[] }): {
  from: string;
  to: string[];
} {
  return { from: e.mailFrom ? e.mailFrom.address : '', to: e.rcptTo.map((r) => r.address) };
}

interface Part {
  readonly headers: Map<string, string>;
  readonly body: string;
}

function splitPart(raw: string): Part {
  const at = raw.search(/\r?\n\r?\n/);
  const head = at < 0 ? raw : raw.slice(0, at);
  const body = at < 0 ? '' : raw.slice(at).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  // RFC 5322 §2.2.3: a line starting with white space continues the previous header.
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeBody(p: Part): string {
  const cte = (p.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  if (cte === 'base64') return Buffer.from(p.body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (cte === 'quoted-printable') return decodeQp(p.body);
  return p.body;
}

function decodeQp(s: string): string {
  const bytes: number[] = [];
  const text = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    const hex = text.slice(i + 1, i + 3);
    if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(ch, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=); white space between two of them is dropped. */
export function decodeWords(s: string): string {
  return s
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, data: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQp(data.replace(/_/g, ' ')),
    );
}

function boundaryOf(contentType: string): string | undefined {
  return /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
}

/** Headers, subject, text and HTML of a MIME message (single part or multipart, nested once or more). */
export function parseMail(raw: string): Omit<ReceivedMail, 'from' | 'to' | 'user' | 'secure' | 'raw'> {
  const top = splitPart(raw);
  let text = '';
  let html: string | undefined;
  const walk = (p: Part): void => {
    const type = (p.headers.get('content-type') ?? 'text/plain').toLowerCase();
    const boundary = type.startsWith('multipart/')
      ? boundaryOf(p.headers.get('content-type') ?? '')
      : undefined;
    if (boundary) {
      const sections = p.body.split(`--${boundary}`).slice(1);
      for (const sec of sections) {
        if (sec.startsWith('--')) break;
        walk(splitPart(sec.replace(/^\r?\n/, '')));
      }
    } else if (type.startsWith('text/html')) html ??= decodeBody(p);
    else if (type.startsWith('text/plain') && !text) text = decodeBody(p);
  };
  walk(top);
  return {
    headers: top.headers,
    subject: decodeWords(top.headers.get('subject') ?? ''),
    text: text.replace(/\r\n/g, '\n'),
    html: html?.replace(/\r\n/g, '\n'),
  };
}
