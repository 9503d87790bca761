/**
 * One call of the Telegram Bot API (https://core.telegram.org/bots/api#making-requests): POST
 * {apiBase}/bot<token>/<method> with a JSON body, answered `{ok:true, result}` or
 * `{ok:false, error_code, description, parameters?}`. The only file that talks to Telegram over HTTP.
 *
 * Failures are NotifyError: network errors, timeouts and 5xx are retryable; 429 is retryable after
 * `parameters.retry_after` seconds; any other 4xx is not (bad token, unknown chat, bot blocked) and carries
 * Telegram's `description`. The token is part of the request path, so no URL, error text or cause that could
 * hold it leaves this file: errors name the redacted URL only.
 */
import { NotifyError, errorMessage } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';

export const TELEGRAM_API_BASE = 'https://api.telegram.org';

interface BotApiReply {
  readonly ok?: boolean;
  readonly result?: unknown;
  readonly error_code?: number;
  readonly description?: string;
  readonly parameters?: { readonly retry_after?: number; readonly migrate_to_chat_id?: number };
}

export interface BotApiOptions {
  /** In errors, e.g. `telegram:oncall`. */
  readonly name: string;
  readonly botToken: Secret;
  /** Default https://api.telegram.org; tests and a self-hosted Bot API server point it elsewhere. */
  readonly apiBase?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

export class BotApi {
  readonly name: string;
  readonly #token: Secret;
  readonly #base: string;
  readonly #timeoutMs: number;

  constructor(opts: BotApiOptions) {
    this.name = opts.name;
    this.#token = opts.botToken;
    this.#base = (opts.apiBase ?? TELEGRAM_API_BASE).replace(/\/+$/, '');
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /**
   * Call `method` and return its `result`. `timeoutMs` overrides the default (long polling waits longer);
   * `signal` aborts it (stop()).
   */
  async call<T = unknown>(
    method: string,
    body: Record<string, unknown>,
    opts: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<T> {
    const token = this.#token.reveal();
    const redact = (s: string): string => (token ? s.split(token).join('<token>') : s);
    const shownUrl = `${this.#base}/bot<token>/${method}`;
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.#timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${this.#base}/bot${token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout,
      });
    } catch (err) {
      // No `cause`: undici's errors can carry the request, and so the token.
      throw new NotifyError(
        'telegram_unreachable',
        `${this.name}: POST ${shownUrl}: ${redact(describeFetchError(err))}`,
        { retryable: true },
      );
    }
    const raw = await res.text().catch(() => '');
    let reply: BotApiReply | undefined;
    try {
      reply = JSON.parse(raw) as BotApiReply;
    } catch {
      reply = undefined;
    }
    if (res.ok && reply?.ok === true) return reply.result as T;

    const status = reply?.error_code ?? res.status;
    const description = redact(reply?.description ?? raw.slice(0, 200)).trim();
    if (res.ok) {
      throw new NotifyError(
        'telegram_bad_reply',
        `${this.name}: POST ${shownUrl}: HTTP ${res.status} but not a Bot API success reply (is apiBase right?): ${description}`,
        { retryable: false },
      );
    }
    if (status === 429 || res.status === 429) {
      const after = reply?.parameters?.retry_after ?? Number(res.headers.get('retry-after'));
      throw new NotifyError('telegram_rate_limited', `${this.name}: ${method}: HTTP 429 ${description}`, {
        retryable: true,
        retryAfterMs: Number.isFinite(after) && after > 0 ? after * 1000 : undefined,
      });
    }
    const migrated = reply?.parameters?.migrate_to_chat_id;
    const hint =
      migrated !== undefined
        ? ` (the group became a supergroup: set chatId: '${migrated}')`
        : res.status === 401 || res.status === 404
          ? ' (check the bot token)'
          : '';
    throw new TelegramApiError(
      `${this.name}: ${method}: HTTP ${res.status} ${description}${hint}`,
      res.status,
      description,
    );
  }
}

/** A refusal by the Bot API (not 429): `status` and Telegram's `description`, for callers that expect some. */
export class TelegramApiError extends NotifyError {
  readonly status: number;
  readonly description: string;
  constructor(message: string, status: number, description: string) {
    super('telegram_status', message, { retryable: status >= 500 });
    this.status = status;
    this.description = description;
  }
}

function describeFetchError(err: unknown): string {
  const cause =
    err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  if (err instanceof Error && err.name === 'AbortError') return 'aborted';
  const detail =
    cause && typeof cause === 'object'
      ? typeof cause.code === 'string'
        ? cause.code
        : typeof cause.message === 'string'
          ? cause.message
          : ''
      : '';
  return detail ? `${errorMessage(err)} (${detail})` : errorMessage(err);
}
