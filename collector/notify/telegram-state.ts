/**
 * What a Telegram channel with buttons remembers across restarts: the getUpdates offset (so a restart does
 * not replay presses already handled) and the pages it sent per open incident (chat, message id, the HTML it
 * sent and the status lines added since), so an acknowledgement or a recovery can edit them.
 *
 * Kept in a small JSON file beside the incident database, rewritten whole on each change (write to a
 * temporary file, then rename: a crash leaves the old or the new file, never half of one). Pages of
 * resolved incidents are forgotten once edited; at most MAX_PAGES are kept, the oldest dropped first.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface PageRef {
  readonly incidentId: string;
  readonly chatId: string;
  readonly messageId: number;
  /** The message as sent (HTML), without status lines. */
  readonly html: string;
  /** Status lines added since (acknowledged by …, silenced by …), HTML, in order. */
  readonly lines: readonly string[];
  readonly acknowledged: boolean;
  readonly sentAt: number;
}

interface StateFile {
  readonly version: 1;
  offset?: number | undefined;
  pages: PageRef[];
}

export const MAX_PAGES = 2000;

export class TelegramState {
  readonly #file: string | undefined;
  readonly #state: StateFile;

  /** `file` undefined: in memory only (tests, an in-memory incident store). */
  constructor(file: string | undefined) {
    this.#file = file;
    this.#state = file ? readState(file) : { version: 1, pages: [] };
  }

  get file(): string | undefined {
    return this.#file;
  }

  /** The next update_id to ask for; undefined before the first update. */
  offset(): number | undefined {
    return this.#state.offset;
  }

  setOffset(offset: number): void {
    if (this.#state.offset !== undefined && offset <= this.#state.offset) return;
    this.#state.offset = offset;
    this.#save();
  }

  addPage(ref: PageRef): void {
    this.#state.pages.push(ref);
    if (this.#state.pages.length > MAX_PAGES)
      this.#state.pages.splice(0, this.#state.pages.length - MAX_PAGES);
    this.#save();
  }

  pagesOf(incidentId: string): PageRef[] {
    return this.#state.pages.filter((p) => p.incidentId === incidentId);
  }

  pageByMessage(chatId: string, messageId: number): PageRef | undefined {
    return this.#state.pages.find((p) => p.chatId === chatId && p.messageId === messageId);
  }

  updatePage(ref: PageRef): void {
    const i = this.#state.pages.findIndex((p) => p.chatId === ref.chatId && p.messageId === ref.messageId);
    if (i < 0) return;
    this.#state.pages[i] = ref;
    this.#save();
  }

  forget(incidentId: string): void {
    const before = this.#state.pages.length;
    this.#state.pages = this.#state.pages.filter((p) => p.incidentId !== incidentId);
    if (this.#state.pages.length !== before) this.#save();
  }

  #save(): void {
    if (!this.#file) return;
    mkdirSync(dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.#state), { mode: 0o600 });
    renameSync(tmp, this.#file);
  }
}

function readState(file: string): StateFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, pages: [] };
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<StateFile>;
    const pages = Array.isArray(parsed.pages) ? parsed.pages.filter(isPageRef) : [];
    const offset =
      typeof parsed.offset === 'number' && Number.isInteger(parsed.offset) ? parsed.offset : undefined;
    return { version: 1, offset, pages };
  } catch {
    // A damaged file costs the buttons of open pages and may replay recent presses (each answered
    // "already acknowledged"); it does not stop the monitor.
    return { version: 1, pages: [] };
  }
}

function isPageRef(p: unknown): p is PageRef {
  if (typeof p !== 'object' || p === null) return false;
  const r = p as Record<string, unknown>;
  return (
    typeof r.incidentId === 'string' &&
    typeof r.chatId === 'string' &&
    typeof r.messageId === 'number' &&
    typeof r.html === 'string' &&
    Array.isArray(r.lines) &&
    typeof r.acknowledged === 'boolean'
  );
}
