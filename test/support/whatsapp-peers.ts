/**
 * Stand-ins for the two WhatsApp APIs the channels speak, on 127.0.0.1 (free ports):
 *
 * - Meta's WhatsApp Business Cloud API: POST /{version}/{phoneNumberId}/messages with a Bearer token and a
 *   JSON template message, answered `{messaging_product, contacts, messages:[{id}]}` or Graph API errors
 *   `{error:{message, type, code, error_data?, fbtrace_id}}`. It checks what the real one checks and a
 *   client could get wrong: the token (401, code 190), the phone number id (400, code 100),
 *   messaging_product, the recipient, the template's name and language (404, 132001), the number of body
 *   parameters (400, 132000), parameters without newlines, tabs or more than 4 spaces in a row (132018).
 * - An HTTP gateway of the Fonnte/Wablas kind: a form POST (x-www-form-urlencoded) with an Authorization
 *   header and target/message fields (names configurable), answered `{status:true, ...}`, or, as these
 *   gateways do, HTTP 200 `{status:false, reason}` for a refusal.
 *
 * Both record what they accepted and can fail the next requests as scripted.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface CloudMessage {
  readonly to: string;
  readonly template: string;
  readonly language: string;
  readonly parameters: readonly string[];
  readonly body: Record<string, unknown>;
}

export interface CloudFailure {
  readonly status: number;
  readonly code?: number | undefined;
  readonly message?: string | undefined;
  readonly retryAfterS?: number | undefined;
}

export interface CloudPeer {
  /** The baseUrl to give the channel. */
  readonly baseUrl: string;
  readonly messages: CloudMessage[];
  readonly requests: { readonly to: string; readonly status: number; readonly authorization: string }[];
  failNext(...f: CloudFailure[]): void;
  stop(): Promise<void>;
}

/** Meta's wording for the failures tests script. */
export const RATE_LIMIT_HIT: CloudFailure = {
  status: 400,
  code: 130429,
  message: '(#130429) Rate limit hit',
};
export const TOO_MANY_HTTP: CloudFailure = {
  status: 429,
  code: 80007,
  message: '(#80007) Rate limit issues',
  retryAfterS: 1,
};
export const SERVICE_UNAVAILABLE: CloudFailure = {
  status: 503,
  code: 131016,
  message: '(#131016) Service unavailable',
};
export const RECIPIENT_NOT_ON_WHATSAPP: CloudFailure = {
  status: 400,
  code: 131026,
  message: '(#131026) Message Undeliverable',
};

export async function startCloudPeer(opts: {
  readonly token: string;
  readonly phoneNumberId: string;
  readonly version?: string;
  /** Approved templates: name → language and number of body parameters. */
  readonly templates: Readonly<Record<string, { language: string; params: number }>>;
}): Promise<CloudPeer> {
  const messages: CloudMessage[] = [];
  const requests: { to: string; status: number; authorization: string }[] = [];
  const script: CloudFailure[] = [];
  let seq = 1;
  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      let to = '';
      const auth = req.headers.authorization ?? '';
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        requests.push({ to, status, authorization: auth });
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      const graphError = (status: number, code: number, message: string, details?: string): void =>
        answer(status, {
          error: {
            message,
            type: 'OAuthException',
            code,
            ...(details ? { error_data: { messaging_product: 'whatsapp', details } } : {}),
            fbtrace_id: `A${seq++}trace`,
          },
        });
      const m = /^\/(v\d+\.\d+)\/([^/]+)\/messages$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) return graphError(400, 100, 'Unknown path components');
      if ((opts.version ?? 'v21.0') !== m[1])
        return graphError(400, 2635, `(#2635) You are calling a deprecated version`);
      if (auth !== `Bearer ${opts.token}`)
        return graphError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
      if (m[2] !== opts.phoneNumberId)
        return graphError(
          400,
          100,
          `Unsupported post request. Object with ID '${m[2]}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
        );
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return graphError(400, 100, '(#100) Invalid parameter');
      }
      to = typeof body.to === 'string' ? body.to : '';
      const scripted = script.shift();
      if (scripted)
        return answer(
          scripted.status,
          {
            error: {
              message: scripted.message ?? 'error',
              type: 'OAuthException',
              code: scripted.code ?? scripted.status,
              fbtrace_id: `A${seq++}trace`,
            },
          },
          scripted.retryAfterS ? { 'retry-after': String(scripted.retryAfterS) } : {},
        );
      if (body.messaging_product !== 'whatsapp')
        return graphError(400, 100, '(#100) The parameter messaging_product is required.');
      if (!/^\d{8,15}$/.test(to))
        return graphError(400, 100, '(#100) Invalid parameter', 'to: not a phone number');
      if (body.type !== 'template') return graphError(400, 100, '(#100) Param type must be template here');
      const t = body.template as
        | {
            name?: unknown;
            language?: { code?: unknown };
            components?: { type?: string; parameters?: { type?: string; text?: unknown }[] }[];
          }
        | undefined;
      const name = typeof t?.name === 'string' ? t.name : '';
      const language = typeof t?.language?.code === 'string' ? t.language.code : '';
      const approved = opts.templates[name];
      if (!approved || approved.language !== language)
        return graphError(
          404,
          132001,
          '(#132001) Template name does not exist in the translation',
          `template name (${name}) does not exist in ${language}`,
        );
      const params = (t?.components ?? [])
        .filter((c) => c.type === 'body')
        .flatMap((c) => c.parameters ?? []);
      if (params.length !== approved.params)
        return graphError(
          400,
          132000,
          '(#132000) Number of parameters does not match the expected number of params',
          `body: number of localizable_params (${params.length}) does not match the expected number of params (${approved.params})`,
        );
      const texts: string[] = [];
      for (const p of params) {
        if (p.type !== 'text' || typeof p.text !== 'string' || p.text.length === 0)
          return graphError(400, 131008, '(#131008) Required parameter is missing');
        if (/[\n\t]| {5,}/.test(p.text))
          return graphError(
            400,
            132018,
            '(#132018) There was an issue with the parameters in your template.',
            'Param text cannot have new-line/tab characters or more than 4 consecutive spaces',
          );
        texts.push(p.text);
      }
      messages.push({ to, template: name, language, parameters: texts, body });
      answer(200, {
        messaging_product: 'whatsapp',
        contacts: [{ input: to, wa_id: to }],
        messages: [{ id: `wamid.HBgN${seq++}`, message_status: 'accepted' }],
      });
    });
  });
  const port = await listen(server);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    messages,
    requests,
    failNext: (...f) => void script.push(...f),
    stop: () => close(server),
  };
}

export interface GatewayMessage {
  readonly target: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, string>>;
}

export interface GatewayFailure {
  readonly status: number;
  /** The body; default `{status:false, reason:<HTTP text>}`. */
  readonly body?: unknown;
  readonly retryAfterS?: number | undefined;
}

export interface GatewayPeer {
  readonly url: string;
  readonly messages: GatewayMessage[];
  readonly requests: { readonly target: string; readonly status: number; readonly contentType: string }[];
  failNext(...f: GatewayFailure[]): void;
  stop(): Promise<void>;
}

export async function startGatewayPeer(opts: {
  readonly token: string;
  readonly targetField?: string;
  readonly messageField?: string;
  readonly path?: string;
}): Promise<GatewayPeer> {
  const targetField = opts.targetField ?? 'target';
  const messageField = opts.messageField ?? 'message';
  const path = opts.path ?? '/send';
  const messages: GatewayMessage[] = [];
  const requests: { target: string; status: number; contentType: string }[] = [];
  const script: GatewayFailure[] = [];
  let seq = 8000;
  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const contentType = req.headers['content-type'] ?? '';
      const form = new URLSearchParams(
        contentType.startsWith('application/x-www-form-urlencoded') ? raw : '',
      );
      const target = form.get(targetField) ?? '';
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        requests.push({ target, status, contentType });
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || req.url !== path)
        return answer(404, { status: false, reason: 'not found' });
      const scripted = script.shift();
      if (scripted)
        return answer(
          scripted.status,
          scripted.body ?? { status: false, reason: `HTTP ${scripted.status}` },
          scripted.retryAfterS ? { 'retry-after': String(scripted.retryAfterS) } : {},
        );
      // Fonnte answers a refusal with HTTP 200 and status false.
      if (req.headers.authorization !== opts.token)
        return answer(200, { status: false, reason: 'invalid token' });
      if (!contentType.startsWith('application/x-www-form-urlencoded'))
        return answer(200, { status: false, reason: 'target invalid' });
      const message = form.get(messageField) ?? '';
      if (!/^\d{8,15}$|^\d{10,30}@g\.us$/.test(target))
        return answer(200, { status: false, reason: 'target invalid' });
      if (message.trim().length === 0) return answer(200, { status: false, reason: 'message is empty' });
      messages.push({ target, message, fields: Object.fromEntries(form) });
      answer(200, {
        status: true,
        detail: 'success! message in queue',
        id: [String(seq++)],
        process: 'pending',
        target: [target],
      });
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}${path}`,
    messages,
    requests,
    failNext: (...f) => void script.push(...f),
    stop: () => close(server),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => resolve(data));
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

function close(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
