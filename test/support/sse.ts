/**
 * A Server-Sent Events reader for tests: opens a stream with fetch, parses its frames as they come, and
 * waits for an event with a deadline (never a fixed sleep).
 */
export interface SseEvent {
  readonly type: string;
  readonly data: unknown;
  readonly id?: string | undefined;
  /** Date.now() when the frame was parsed. */
  readonly receivedAt: number;
}

export interface SseStream {
  readonly status: number;
  readonly headers: Headers;
  /** Every event so far, in order. */
  readonly events: SseEvent[];
  /** Comment lines (`: ping`) so far. */
  readonly comments: string[];
  /** True once the server ended the stream. */
  readonly ended: boolean;
  /** The first event (from `fromIndex` on) that satisfies `match`; throws after `timeoutMs`. */
  next(match: (e: SseEvent) => boolean, timeoutMs?: number, fromIndex?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream; throws after `timeoutMs`. */
  waitEnd(timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let ended = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  if (res.ok && res.body) {
    const body = res.body as unknown as {
      getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array | undefined }> };
    };
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    void (async () => {
      try {
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          const value = chunk.value;
          buf += decoder.decode(value, { stream: true });
          let cut: number;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            let type = 'message';
            let id: string | undefined;
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comments.push(line.slice(1).trim());
              else if (line.startsWith('event: ')) type = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
              else if (line.startsWith('id: ')) id = line.slice(4);
            }
            if (data.length > 0)
              events.push({ type, id, data: JSON.parse(data.join('\n')) as unknown, receivedAt: Date.now() });
          }
          wake();
        }
      } catch {
        // aborted by close(), or the connection was cut
      }
      ended = true;
      wake();
    })();
  } else {
    ended = true;
  }
  const wait = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const tryNow = () => {
        const v = check();
        if (v === undefined) return false;
        clearTimeout(timer);
        waiters.delete(onWake);
        resolve(v);
        return true;
      };
      const onWake = () => void tryNow();
      const timer = setTimeout(() => {
        waiters.delete(onWake);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      waiters.add(onWake);
      tryNow();
    });
  return {
    status: res.status,
    headers: res.headers,
    events,
    comments,
    get ended() {
      return ended;
    },
    next: (match, timeoutMs = 10_000, fromIndex = 0) =>
      wait(() => events.slice(fromIndex).find(match), timeoutMs, 'an event'),
    waitEnd: (timeoutMs = 10_000) =>
      wait(() => (ended ? true : undefined), timeoutMs, 'the end').then(() => undefined),
    close: () => abort.abort(),
  };
}
