/**
 * A stand-in for the Telegram Bot API on 127.0.0.1 (a free port): POST /bot<token>/sendMessage with a JSON
 * body, answered the way https://core.telegram.org/bots/api#making-requests describes
 * (`{ok:true, result:Message}` or `{ok:false, error_code, description, parameters?}`).
 *
 * It checks what the real one checks and the notifier could get wrong: the token (401 Unauthorized), the
 * chat (400 chat not found), parse_mode HTML well-formed with only Telegram's tags and entities (400 can't
 * parse entities) and the 4096-character limit after entity parsing (400 message is too long). Accepted
 * messages are recorded; failures can be scripted for the next requests.
 */
import { createServer, type Server } from 'node:http';

export interface TelegramMessage {
  readonly token: string;
  readonly chatId: string;
  readonly text: string;
  /** The text as a reader sees it: tags removed, entities decoded. */
  readonly plain: string;
  readonly body: Record<string, unknown>;
}

export interface ScriptedFailure {
  readonly status: number;
  readonly description: string;
  readonly retryAfterS?: number | undefined;
  /** Answer with this raw body instead of Bot API JSON (a proxy's error page). */
  readonly raw?: string | undefined;
}

export interface TelegramPeer {
  /** The apiBase to give the notifier: http://127.0.0.1:<port> */
  readonly apiBase: string;
  /** Accepted messages, in order. */
  readonly messages: TelegramMessage[];
  /** Every request (accepted or not), with the path as requested. */
  readonly requests: { readonly path: string; readonly status: number }[];
  /** The next requests fail like this, one failure per request, in order. */
  failNext(...failures: ScriptedFailure[]): void;
  stop(): Promise<void>;
}

/** Telegram's own wording for the failures tests script. */
export const TOO_MANY_REQUESTS = (retryAfterS: number): ScriptedFailure => ({
  status: 429,
  description: `Too Many Requests: retry after ${retryAfterS}`,
  retryAfterS,
});
export const BAD_REQUEST_CHAT_NOT_FOUND: ScriptedFailure = {
  status: 400,
  description: 'Bad Request: chat not found',
};
export const BOT_BLOCKED: ScriptedFailure = {
  status: 403,
  description: 'Forbidden: bot was blocked by the user',
};

export async function startTelegramPeer(opts: {
  readonly tokens: readonly string[];
  readonly chats: readonly string[];
}): Promise<TelegramPeer> {
  const messages: TelegramMessage[] = [];
  const requests: { path: string; status: number }[] = [];
  const script: ScriptedFailure[] = [];
  let nextId = 1;

  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '';
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
        requests.push({ path, status });
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      const fail = (status: number, description: string, parameters?: Record<string, unknown>): void =>
        answer(status, { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) });

      const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(path);
      if (req.method !== 'POST' || !m) return fail(404, 'Not Found');
      const [, token = '', method] = m;
      if (!opts.tokens.includes(token)) return fail(401, 'Unauthorized');
      if (method !== 'sendMessage') return fail(404, 'Not Found: method not found');
      const scripted = script.shift();
      if (scripted) {
        if (scripted.raw !== undefined) {
          requests.push({ path, status: scripted.status });
          res.writeHead(scripted.status, { 'content-type': 'text/html' }).end(scripted.raw);
          return;
        }
        return fail(
          scripted.status,
          scripted.description,
          scripted.retryAfterS === undefined ? undefined : { retry_after: scripted.retryAfterS },
        );
      }
      if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
        return fail(400, 'Bad Request: message text is empty');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(data) as Record<string, unknown>;
      } catch {
        return fail(400, 'Bad Request: message text is empty');
      }
      const chatId =
        typeof body.chat_id === 'string' || typeof body.chat_id === 'number' ? String(body.chat_id) : '';
      if (!opts.chats.includes(chatId)) return fail(400, 'Bad Request: chat not found');
      const text = typeof body.text === 'string' ? body.text : '';
      let plain: string;
      if (body.parse_mode === 'HTML') {
        const parsed = parseTelegramHtml(text);
        if (typeof parsed !== 'string')
          return fail(400, `Bad Request: can't parse entities: ${parsed.error}`);
        plain = parsed;
      } else plain = text;
      if (plain.trim().length === 0) return fail(400, 'Bad Request: message text is empty');
      if (plain.length > 4096) return fail(400, 'Bad Request: message is too long');
      messages.push({ token, chatId, text, plain, body });
      answer(200, {
        ok: true,
        result: {
          message_id: nextId++,
          date: Math.floor(Date.now() / 1000),
          chat: { id: /^-?\d+$/.test(chatId) ? Number(chatId) : -1, type: 'supergroup' },
          text: plain,
        },
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    apiBase: `http://127.0.0.1:${port}`,
    messages,
    requests,
    failNext: (...f) => void script.push(...f),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const TAGS = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'span',
  'tg-spoiler',
  'a',
  'tg-emoji',
  'code',
  'pre',
  'blockquote',
]);
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/**
 * The Bot API's HTML style (https://core.telegram.org/bots/api#html-style): only its tags, properly nested;
 * every '<', '>' and '&' outside a tag or entity escaped; entities &lt; &gt; &amp; &quot; and numeric ones.
 * Returns the visible text, or the first problem.
 */
export function parseTelegramHtml(html: string): string | { error: string } {
  let out = '';
  const open: string[] = [];
  for (let i = 0; i < html.length;) {
    const ch = html[i];
    if (ch === '<') {
      const m = /^<(\/?)([a-z-]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*>/.exec(html.slice(i));
      if (!m) return { error: `unsupported start tag at byte offset ${i}` };
      const [all, close, tag = ''] = m;
      if (!TAGS.has(tag)) return { error: `unsupported start tag "${tag}" at byte offset ${i}` };
      if (close) {
        if (open.pop() !== tag)
          return { error: `unmatched end tag at byte offset ${i}, expected "</${tag}>"` };
      } else open.push(tag);
      i += all.length;
    } else if (ch === '&') {
      const m = /^&(?:([a-z]+)|#(\d+)|#x([0-9a-fA-F]+));/.exec(html.slice(i));
      if (!m) return { error: `character '&' is reserved and must be escaped, at byte offset ${i}` };
      const [all, named, dec, hex] = m;
      if (named !== undefined) {
        const v = NAMED[named];
        if (v === undefined) return { error: `unsupported HTML entity "&${named};" at byte offset ${i}` };
        out += v;
      } else out += String.fromCodePoint(dec !== undefined ? Number(dec) : parseInt(hex ?? '0', 16));
      i += all.length;
    } else if (ch === '>') {
      return { error: `character '>' is reserved and must be escaped, at byte offset ${i}` };
    } else {
      out += ch;
      i++;
    }
  }
  if (open.length > 0)
    return { error: `can't find end tag corresponding to start tag "${open.at(-1) ?? ''}"` };
  return out;
}
