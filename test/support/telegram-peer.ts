/**
 * A stand-in for the Telegram Bot API on 127.0.0.1 (a free port): POST /bot<token>/<method> with a JSON
 * body, answered the way https://core.telegram.org/bots/api#making-requests describes
 * (`{ok:true, result}` or `{ok:false, error_code, description, parameters?}`).
 *
 * Methods: sendMessage, editMessageText, answerCallbackQuery, getUpdates (long polling: held until an update
 * arrives or `timeout` seconds pass; updates below `offset` are confirmed and gone, as Telegram does),
 * setWebhook / deleteWebhook (with a webhook set, getUpdates is refused 409 and presses are POSTed to it
 * with the `X-Telegram-Bot-Api-Secret-Token` header).
 *
 * It checks what the real one checks and a client could get wrong: the token (401 Unauthorized), the chat
 * (400 chat not found), parse_mode HTML well-formed with only Telegram's tags and entities (400 can't parse
 * entities), the 4096-character limit after entity parsing, inline keyboards (callback_data 1-64 bytes),
 * edits of unknown messages, edits that change nothing (400 message is not modified), answers to unknown or
 * already answered callback queries. `press()` is a user pressing a button that is on the message now.
 * Failures can be scripted for the next requests of a method.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';

export interface TelegramMessage {
  readonly token: string;
  readonly chatId: string;
  readonly messageId: number;
  readonly text: string;
  /** The text as a reader sees it: tags removed, entities decoded. */
  readonly plain: string;
  readonly body: Record<string, unknown>;
}

export interface InlineButton {
  readonly text: string;
  readonly callback_data: string;
}

/** A message as it stands now, after edits. */
export interface CurrentMessage {
  readonly chatId: string;
  readonly messageId: number;
  text: string;
  plain: string;
  keyboard: InlineButton[][] | undefined;
}

export interface TelegramEdit {
  readonly chatId: string;
  readonly messageId: number;
  readonly text: string;
  readonly plain: string;
  readonly keyboard: InlineButton[][] | undefined;
}

export interface CallbackAnswer {
  readonly callbackQueryId: string;
  readonly text: string | undefined;
  readonly showAlert: boolean;
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
  /** Accepted messages, in order, as sent. */
  readonly messages: TelegramMessage[];
  /** Accepted edits, in order. */
  readonly edits: TelegramEdit[];
  /** Answers to callback queries, in order. */
  readonly answers: CallbackAnswer[];
  /** Every request (accepted or not), with the path as requested and the method. */
  readonly requests: { readonly path: string; readonly method: string; readonly status: number }[];
  /** Webhook deliveries: the HTTP status the receiver answered (0: unreachable). */
  readonly deliveries: { readonly updateId: number; readonly status: number }[];
  /** The webhook set, if any. */
  webhook(): { url: string; secretToken: string | undefined } | undefined;
  /** A message as it stands now (after edits). */
  current(chatId: string, messageId: number): CurrentMessage | undefined;
  /**
   * A user presses the button of a message whose label matches; the callback_data is the button's own.
   * Queued for getUpdates, or POSTed to the webhook. Returns the callback query id.
   */
  press(p: {
    chatId: string;
    messageId: number;
    button: RegExp;
    from: { id: number; username?: string };
  }): Promise<string>;
  /** The next sendMessage requests fail like this, one failure per request, in order. */
  failNext(...failures: ScriptedFailure[]): void;
  /** The next requests of `method` fail like this. */
  failNextOf(method: string, ...failures: ScriptedFailure[]): void;
  /** How many getUpdates requests are waiting (long polling) now. */
  waitingPolls(): number;
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

interface Update {
  readonly update_id: number;
  readonly callback_query: Record<string, unknown>;
}

export async function startTelegramPeer(opts: {
  readonly tokens: readonly string[];
  readonly chats: readonly string[];
}): Promise<TelegramPeer> {
  const messages: TelegramMessage[] = [];
  const edits: TelegramEdit[] = [];
  const answers: CallbackAnswer[] = [];
  const requests: { path: string; method: string; status: number }[] = [];
  const deliveries: { updateId: number; status: number }[] = [];
  const scripts = new Map<string, ScriptedFailure[]>();
  const current = new Map<string, CurrentMessage>();
  const queries = new Map<string, { answered: boolean }>();
  let pending: Update[] = [];
  let hook: { url: string; secretToken: string | undefined } | undefined;
  let waiting: { res: ServerResponse; finish: (updates: Update[] | 'conflict') => void } | undefined;
  let nextId = 1;
  let nextUpdate = 700_000_001;
  let nextQuery = 1;
  const key = (chatId: string, messageId: number) => `${chatId}/${messageId}`;

  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '';
      const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(path);
      const [, token = '', method = ''] = m ?? [];
      const answer = (status: number, body: unknown): void => {
        requests.push({ path, method, status });
        if (!res.headersSent)
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const ok = (result: unknown): void => answer(200, { ok: true, result });
      const fail = (status: number, description: string, parameters?: Record<string, unknown>): void =>
        answer(status, { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) });

      if (req.method !== 'POST' || !m) return fail(404, 'Not Found');
      if (!opts.tokens.includes(token)) return fail(401, 'Unauthorized');
      const scripted = scripts.get(method)?.shift();
      if (scripted) {
        if (scripted.raw !== undefined) {
          requests.push({ path, method, status: scripted.status });
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
      const chatOf = (): string =>
        typeof body.chat_id === 'string' || typeof body.chat_id === 'number' ? String(body.chat_id) : '';
      const textOf = (): string | { error: string } => {
        const text = typeof body.text === 'string' ? body.text : '';
        let plain: string;
        if (body.parse_mode === 'HTML') {
          const parsed = parseTelegramHtml(text);
          if (typeof parsed !== 'string')
            return { error: `Bad Request: can't parse entities: ${parsed.error}` };
          plain = parsed;
        } else plain = text;
        if (plain.trim().length === 0) return { error: 'Bad Request: message text is empty' };
        if (plain.length > 4096) return { error: 'Bad Request: message is too long' };
        return plain;
      };

      switch (method) {
        case 'sendMessage': {
          const chatId = chatOf();
          if (!opts.chats.includes(chatId)) return fail(400, 'Bad Request: chat not found');
          const plain = textOf();
          if (typeof plain !== 'string') return fail(400, plain.error);
          const keyboard = keyboardOf(body.reply_markup);
          if (keyboard === 'invalid') return fail(400, 'Bad Request: BUTTON_DATA_INVALID');
          const text = body.text as string;
          const messageId = nextId++;
          messages.push({ token, chatId, messageId, text, plain, body });
          current.set(key(chatId, messageId), { chatId, messageId, text, plain, keyboard });
          return ok({
            message_id: messageId,
            date: Math.floor(Date.now() / 1000),
            chat: { id: /^-?\d+$/.test(chatId) ? Number(chatId) : -1, type: 'supergroup' },
            text: plain,
          });
        }
        case 'editMessageText': {
          const chatId = chatOf();
          const messageId = typeof body.message_id === 'number' ? body.message_id : -1;
          const msg = current.get(key(chatId, messageId));
          if (!msg) return fail(400, 'Bad Request: message to edit not found');
          const plain = textOf();
          if (typeof plain !== 'string') return fail(400, plain.error);
          const keyboard = keyboardOf(body.reply_markup);
          if (keyboard === 'invalid') return fail(400, 'Bad Request: BUTTON_DATA_INVALID');
          const text = body.text as string;
          if (text === msg.text && JSON.stringify(keyboard) === JSON.stringify(msg.keyboard))
            return fail(
              400,
              'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
            );
          msg.text = text;
          msg.plain = plain;
          msg.keyboard = keyboard;
          edits.push({ chatId, messageId, text, plain, keyboard });
          return ok({ message_id: messageId, chat: { id: Number(chatId) }, text: plain });
        }
        case 'answerCallbackQuery': {
          const id = typeof body.callback_query_id === 'string' ? body.callback_query_id : '';
          const q = queries.get(id);
          if (!q || q.answered)
            return fail(
              400,
              'Bad Request: query is too old and response timeout expired or query ID is invalid',
            );
          const text = typeof body.text === 'string' ? body.text : undefined;
          if (text !== undefined && text.length > 200) return fail(400, 'Bad Request: MESSAGE_TOO_LONG');
          q.answered = true;
          answers.push({ callbackQueryId: id, text, showAlert: body.show_alert === true });
          return ok(true);
        }
        case 'setWebhook': {
          if (typeof body.url !== 'string' || !/^https?:\/\//.test(body.url))
            return fail(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
          hook = {
            url: body.url,
            secretToken: typeof body.secret_token === 'string' ? body.secret_token : undefined,
          };
          waiting?.finish('conflict');
          return ok(true);
        }
        case 'deleteWebhook':
          hook = undefined;
          return ok(true);
        case 'getUpdates': {
          if (hook)
            return fail(
              409,
              "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            );
          const offset = typeof body.offset === 'number' ? body.offset : undefined;
          if (offset !== undefined) pending = pending.filter((u) => u.update_id >= offset);
          // A second poller ends the first one's request, as Telegram does.
          waiting?.finish('conflict');
          const limit = typeof body.limit === 'number' ? Math.max(1, Math.min(100, body.limit)) : 100;
          if (pending.length > 0) return ok(pending.slice(0, limit));
          const timeoutS = typeof body.timeout === 'number' ? body.timeout : 0;
          if (timeoutS <= 0) return ok([]);
          const timer = setTimeout(() => finish([]), timeoutS * 1000);
          const finish = (updates: Update[] | 'conflict'): void => {
            clearTimeout(timer);
            if (waiting?.res === res) waiting = undefined;
            if (updates === 'conflict')
              fail(
                409,
                'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
              );
            else ok(updates);
          };
          waiting = { res, finish };
          res.on('close', () => {
            clearTimeout(timer);
            if (waiting?.res === res) waiting = undefined;
          });
          return;
        }
        default:
          return fail(404, 'Not Found: method not found');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  const deliver = async (u: Update): Promise<void> => {
    const target = hook;
    if (!target) {
      pending.push(u);
      waiting?.finish([...pending]);
      return;
    }
    let status: number;
    try {
      const r = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(target.secretToken ? { 'x-telegram-bot-api-secret-token': target.secretToken } : {}),
        },
        body: JSON.stringify(u),
      });
      await r.text();
      status = r.status;
    } catch {
      status = 0;
    }
    deliveries.push({ updateId: u.update_id, status });
  };

  return {
    apiBase: `http://127.0.0.1:${port}`,
    messages,
    edits,
    answers,
    requests,
    deliveries,
    webhook: () => hook,
    current: (chatId, messageId) => current.get(key(chatId, messageId)),
    press: async ({ chatId, messageId, button, from }) => {
      const msg = current.get(key(chatId, messageId));
      if (!msg) throw new Error(`no message ${messageId} in ${chatId}`);
      const b = (msg.keyboard ?? []).flat().find((x) => button.test(x.text));
      if (!b)
        throw new Error(
          `message ${messageId} has no button ${String(button)} (has: ${(msg.keyboard ?? [])
            .flat()
            .map((x) => x.text)
            .join(', ')})`,
        );
      const id = `cq-${nextQuery++}`;
      queries.set(id, { answered: false });
      await deliver({
        update_id: nextUpdate++,
        callback_query: {
          id,
          from: { id: from.id, is_bot: false, first_name: from.username ?? 'user', username: from.username },
          message: {
            message_id: messageId,
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(chatId), type: 'supergroup' },
            text: msg.plain,
          },
          chat_instance: '-4242',
          data: b.callback_data,
        },
      });
      return id;
    },
    failNext: (...f) => {
      const list = scripts.get('sendMessage') ?? [];
      list.push(...f);
      scripts.set('sendMessage', list);
    },
    failNextOf: (method, ...f) => {
      const list = scripts.get(method) ?? [];
      list.push(...f);
      scripts.set(method, list);
    },
    waitingPolls: () => (waiting ? 1 : 0),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** reply_markup's inline keyboard; undefined when absent; 'invalid' when Telegram would refuse it. */
function keyboardOf(markup: unknown): InlineButton[][] | undefined | 'invalid' {
  if (markup === undefined || markup === null) return undefined;
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (!Array.isArray(rows)) return 'invalid';
  const out: InlineButton[][] = [];
  for (const row of rows) {
    if (!Array.isArray(row)) return 'invalid';
    const r: InlineButton[] = [];
    for (const b of row as unknown[]) {
      const { text, callback_data: data } = (b ?? {}) as { text?: unknown; callback_data?: unknown };
      if (typeof text !== 'string' || text.length === 0) return 'invalid';
      if (typeof data !== 'string') return 'invalid';
      const bytes = Buffer.byteLength(data, 'utf8');
      if (bytes < 1 || bytes > 64) return 'invalid';
      r.push({ text, callback_data: data });
    }
    out.push(r);
  }
  return out.length === 0 || out.every((r) => r.length === 0) ? undefined : out;
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
