/**
 * The buttons under a Telegram page and what a press means. Pure: keyboards, callback data, the bilingual
 * answers and the status lines added to an edited page.
 *
 * callback_data is 1-64 bytes (https://core.telegram.org/bots/api#inlinekeyboardbutton): `<action>:<incident
 * id>` when the id fits, otherwise `<action>:` and the incident is found from the message pressed (the
 * channel remembers which message it sent for which incident, collector/notify/telegram-state.ts).
 */
import { formatWita } from '../core/time-zone.ts';
import { escapeHtml } from './telegram-text.ts';

export const BUTTON_ACTIONS = ['ack', 'resolve', 'silence'] as const;
export type ButtonAction = (typeof BUTTON_ACTIONS)[number];

export const CALLBACK_DATA_MAX_BYTES = 64;

export interface InlineButton {
  readonly text: string;
  readonly callback_data: string;
}
export interface InlineKeyboard {
  readonly inline_keyboard: readonly (readonly InlineButton[])[];
}

/** "Tangani / Ack"; "Selesai / Resolve"; "Bisukan 1 jam / Silence 1 h". */
export function buttonLabel(action: ButtonAction, silenceMs: number): string {
  switch (action) {
    case 'ack':
      return '✋ Tangani / Ack';
    case 'resolve':
      return '✅ Selesai / Resolve';
    case 'silence': {
      const d = shortDuration(silenceMs);
      return `🔕 Bisukan ${d.id} / Silence ${d.en}`;
    }
  }
}

export function callbackData(action: ButtonAction, incidentId: string): string {
  const full = `${action}:${incidentId}`;
  return Buffer.byteLength(full, 'utf8') <= CALLBACK_DATA_MAX_BYTES ? full : `${action}:`;
}

/** The action and, when it was carried, the incident id; undefined for data this channel did not make. */
export function parseCallbackData(
  data: string | undefined,
): { action: ButtonAction; incidentId?: string | undefined } | undefined {
  if (!data) return undefined;
  const i = data.indexOf(':');
  if (i < 0) return undefined;
  const action = data.slice(0, i);
  if (!(BUTTON_ACTIONS as readonly string[]).includes(action)) return undefined;
  const id = data.slice(i + 1);
  return { action: action as ButtonAction, incidentId: id.length > 0 ? id : undefined };
}

/** The keyboard of a page: acknowledge (until acknowledged), resolve, silence. */
export function pageKeyboard(
  incidentId: string,
  opts: { acknowledged: boolean; silenceMs: number },
): InlineKeyboard {
  const actions: ButtonAction[] = opts.acknowledged ? ['resolve', 'silence'] : ['ack', 'resolve', 'silence'];
  return {
    inline_keyboard: [
      actions.map((a) => ({
        text: buttonLabel(a, opts.silenceMs),
        callback_data: callbackData(a, incidentId),
      })),
    ],
  };
}

/** The line added to a page when an operator acts on it from Telegram (HTML). */
export function statusLine(action: ButtonAction, operator: string, atMs: number, silenceMs: number): string {
  const who = escapeHtml(operator);
  const at = formatWita(atMs);
  switch (action) {
    case 'ack':
      return `✋ <b>Ditangani</b> oleh ${who} via Telegram, ${at} / <b>Acknowledged</b> by ${who} via Telegram`;
    case 'resolve':
      return `✅ <b>Diselesaikan</b> oleh ${who} via Telegram, ${at} / <b>Resolved</b> by ${who} via Telegram`;
    case 'silence': {
      const d = shortDuration(silenceMs);
      return `🔕 <b>Dibisukan ${d.id}</b> oleh ${who} via Telegram, ${at} / <b>Silenced ${d.en}</b> by ${who}`;
    }
  }
}

/** The line a page gets when its outage is over (HTML). */
export function recoveredLine(atMs: number): string {
  return `🟢 <b>PULIH</b> ${formatWita(atMs)} / <b>RECOVERED</b>`;
}

/** The page as edited: the original, then the status lines. */
export function editedHtml(html: string, lines: readonly string[]): string {
  return lines.length === 0 ? html : `${html}\n\n${lines.join('\n')}`;
}

/** Room kept free in a page with buttons for the status lines an edit adds (Telegram counts ≤ 4096). */
export const STATUS_ROOM_CHARS = 600;

/** What an operator is told after a press (answerCallbackQuery, at most 200 characters). */
export const ANSWERS = {
  ack: (id: string) => `Ditangani: ${id} / Acknowledged`,
  resolve: (id: string) => `Diselesaikan: ${id} / Resolved`,
  silence: (ms: number) => {
    const d = shortDuration(ms);
    return `Dibisukan ${d.id} / Silenced for ${d.en}`;
  },
  refused: (userId: number) =>
    `Anda tidak terdaftar sebagai operator (ID Telegram ${userId}). / You are not a registered operator (Telegram ID ${userId}).`,
  unknownIncident: 'Gangguan ini tidak dikenal lagi. / This incident is no longer known.',
  unknownButton: 'Tombol tidak dikenal. / Unknown button.',
  failed: 'Gagal, coba lagi. / Failed, please try again.',
  conflict: (why: string) => {
    const t = conflictReason(why);
    return `Tidak dapat: ${t.id} / Not possible: ${t.en}`;
  },
};

/** The monitor's refusals (collector/app.ts) in both languages; others as they are. */
export function conflictReason(why: string): { id: string; en: string } {
  const acked = /^acknowledged by (.+) already$/.exec(why);
  if (acked)
    return {
      id: `sudah ditangani oleh ${acked[1] ?? '?'}`,
      en: `already acknowledged by ${acked[1] ?? '?'}`,
    };
  if (why === 'it is already resolved') return { id: 'gangguan sudah selesai', en: 'it is already resolved' };
  return { id: why, en: why };
}

/** Answers are at most 200 characters (answerCallbackQuery `text`). */
export function fitAnswer(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 199)}…`;
}

function shortDuration(ms: number): { id: string; en: string } {
  const min = Math.round(ms / 60_000);
  if (min % 60 === 0) return { id: `${min / 60} jam`, en: `${min / 60} h` };
  return { id: `${min} menit`, en: `${min} min` };
}
