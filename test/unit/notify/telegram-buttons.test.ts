/** The pure parts of Telegram buttons: callback data, keyboards, status lines, answers. */
import { describe, expect, it } from 'vitest';
import {
  ANSWERS,
  CALLBACK_DATA_MAX_BYTES,
  buttonLabel,
  callbackData,
  editedHtml,
  fitAnswer,
  pageKeyboard,
  parseCallbackData,
  statusLine,
} from '../../../collector/notify/telegram-buttons.ts';

const ID = 'pkm-petang-1-r1@2026-11-22T06:05:00.000Z';
const AT = Date.UTC(2026, 10, 22, 6, 12); // 14:12 WITA

describe('callback data', () => {
  it.each([
    ['ack', ID],
    ['resolve', ID],
    ['silence', ID],
  ] as const)('%s round-trips with the incident id', (action, id) => {
    expect(parseCallbackData(callbackData(action, id))).toEqual({ action, incidentId: id });
  });

  it('an id that does not fit 64 bytes is left out (the message names the incident)', () => {
    const long = `${'é'.repeat(30)}@2026-11-22T06:05:00.000Z`; // 2 bytes per é
    const data = callbackData('resolve', long);
    expect(data).toBe('resolve:');
    expect(Buffer.byteLength(callbackData('resolve', 'x'.repeat(56)))).toBe(CALLBACK_DATA_MAX_BYTES);
    expect(parseCallbackData(data)).toEqual({ action: 'resolve', incidentId: undefined });
  });

  it.each([undefined, '', 'ack', 'delete:x', 'ACK:x'])('%j is not ours', (data) => {
    expect(parseCallbackData(data)).toBeUndefined();
  });
});

describe('keyboard and labels', () => {
  it('three buttons until acknowledged, then two; labels in both languages', () => {
    const labels = (ack: boolean) =>
      pageKeyboard(ID, { acknowledged: ack, silenceMs: 3600_000 })
        .inline_keyboard.flat()
        .map((b) => b.text);
    expect(labels(false)).toEqual([
      '✋ Tangani / Ack',
      '✅ Selesai / Resolve',
      '🔕 Bisukan 1 jam / Silence 1 h',
    ]);
    expect(labels(true)).toEqual(['✅ Selesai / Resolve', '🔕 Bisukan 1 jam / Silence 1 h']);
    expect(buttonLabel('silence', 30 * 60_000)).toBe('🔕 Bisukan 30 menit / Silence 30 min');
  });
});

describe('status lines and answers', () => {
  it('say who, how and when, in both languages, HTML-escaped', () => {
    expect(statusLine('ack', 'Wayan <NOC>', AT, 3600_000)).toBe(
      '✋ <b>Ditangani</b> oleh Wayan &lt;NOC&gt; via Telegram, 14:12 WITA, 22-11-2026 / <b>Acknowledged</b> by Wayan &lt;NOC&gt; via Telegram',
    );
    expect(statusLine('silence', 'made', AT, 2 * 3600_000)).toContain('Dibisukan 2 jam</b> oleh made');
    expect(statusLine('resolve', 'made', AT, 0)).toContain('<b>Resolved</b> by made via Telegram');
    expect(editedHtml('page', [])).toBe('page');
    expect(editedHtml('page', ['a', 'b'])).toBe('page\n\na\nb');
  });

  it("the monitor's refusals in both languages", () => {
    expect(ANSWERS.conflict('acknowledged by Made Ayu already')).toBe(
      'Tidak dapat: sudah ditangani oleh Made Ayu / Not possible: already acknowledged by Made Ayu',
    );
    expect(ANSWERS.conflict('it is already resolved')).toBe(
      'Tidak dapat: gangguan sudah selesai / Not possible: it is already resolved',
    );
  });

  it('answers fit the 200 characters of answerCallbackQuery', () => {
    expect(ANSWERS.refused(123).length).toBeLessThanOrEqual(200);
    expect(fitAnswer(ANSWERS.conflict('x'.repeat(300)))).toHaveLength(200);
    expect(fitAnswer('short')).toBe('short');
  });
});
