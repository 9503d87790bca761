/** TelegramState: the offset and the pages sent survive a restart; a damaged file costs nothing else. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_PAGES, TelegramState, type PageRef } from '../../../collector/notify/telegram-state.ts';

const dir = mkdtempSync(join(tmpdir(), 'netmon-tgstate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const page = (incidentId: string, messageId: number): PageRef => ({
  incidentId,
  chatId: '-1001234567890',
  messageId,
  html: `<b>${incidentId}</b>`,
  lines: [],
  acknowledged: false,
  sentAt: 0,
});

describe('TelegramState', () => {
  it('keeps the offset (only forward) and the pages across a restart', () => {
    const file = join(dir, 'sub', 'tg.json');
    const a = new TelegramState(file);
    expect(a.offset()).toBeUndefined();
    a.setOffset(101);
    a.setOffset(99); // an older update: never back
    a.addPage(page('inc-1', 7));
    a.updatePage({ ...page('inc-1', 7), lines: ['acked'], acknowledged: true });
    const b = new TelegramState(file);
    expect(b.offset()).toBe(101);
    expect(b.pageByMessage('-1001234567890', 7)).toMatchObject({
      incidentId: 'inc-1',
      lines: ['acked'],
      acknowledged: true,
    });
    b.forget('inc-1');
    expect(new TelegramState(file).pagesOf('inc-1')).toEqual([]);
    expect(() => readFileSync(`${file}.tmp`)).toThrow(); // renamed into place, nothing left behind
  });

  it('a damaged file: starts empty instead of failing', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"offset": 5, "pages": [');
    const s = new TelegramState(file);
    expect(s.offset()).toBeUndefined();
    expect(s.pagesOf('x')).toEqual([]);
  });

  it('entries of the wrong shape are dropped, the rest kept', () => {
    const file = join(dir, 'mixed.json');
    writeFileSync(file, JSON.stringify({ version: 1, offset: 3, pages: [page('ok', 1), { incidentId: 5 }] }));
    const s = new TelegramState(file);
    expect(s.offset()).toBe(3);
    expect(s.pagesOf('ok')).toHaveLength(1);
  });

  it(`keeps at most ${MAX_PAGES} pages, the oldest dropped`, () => {
    const s = new TelegramState(undefined);
    for (let i = 0; i < MAX_PAGES + 5; i++) s.addPage(page(`inc-${i}`, i));
    expect(s.pagesOf('inc-0')).toEqual([]);
    expect(s.pagesOf('inc-5')).toHaveLength(1);
    expect(s.pagesOf(`inc-${MAX_PAGES + 4}`)).toHaveLength(1);
  });
});
