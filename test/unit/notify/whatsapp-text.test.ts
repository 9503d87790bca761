/** WhatsApp texts: the gateway message and the Cloud API template parameters; numbers masked in logs. */
import { describe, expect, it } from 'vitest';
import { buildNotification } from '../../../collector/notify/notification.ts';
import { maskNumber } from '../../../collector/notify/recipients.ts';
import {
  TEMPLATE_PARAMS_MAX_CHARS,
  oneLine,
  templateParameters,
  whatsappText,
} from '../../../collector/notify/whatsapp-text.ts';
import { LINK, alert, router, site } from '../../support/outage-fixture.ts';

const n = buildNotification(alert, site, router, LINK);

describe('whatsappText', () => {
  it('Indonesian, English, the link once at the end', () => {
    const t = whatsappText(n);
    expect(t.startsWith('[KRITIS] GANGGUAN')).toBe(true);
    expect(t.indexOf('[CRITICAL] DOWN')).toBeGreaterThan(0);
    expect(t.split(`${LINK}/sites/pkm-petang-1`)).toHaveLength(2);
    expect(t.endsWith(`${LINK}/sites/pkm-petang-1`)).toBe(true);
  });

  it('cut to the limit, both languages kept, the link kept', () => {
    const many = Array.from({ length: 10 }, (_, i) => ({
      id: `b${i}`,
      name: `Banjar ${'Panjang '.repeat(60)}${i}`,
    }));
    const big = buildNotification({ ...alert, affectedSites: many }, site, router, LINK);
    const t = whatsappText(big, 1000);
    expect(t.length).toBeLessThanOrEqual(1000);
    expect(t).toContain('[KRITIS]');
    expect(t).toContain('[CRITICAL]');
    expect(t).toContain('…');
    expect(t.endsWith(`${LINK}/sites/pkm-petang-1`)).toBe(true);
  });
});

describe('templateParameters', () => {
  it('one line each (Meta 132018), cut to a share of the body', () => {
    const [id, en] = templateParameters(n, ['text_id', 'text_en']);
    for (const p of [id!, en!]) {
      expect(p).not.toMatch(/[\n\t]| {5,}/);
      expect(p.length).toBeLessThanOrEqual(TEMPLATE_PARAMS_MAX_CHARS / 2);
    }
    expect(id).not.toContain(LINK); // the link is a field of its own
  });

  it('named fields', () => {
    expect(templateParameters(n, ['title_id', 'title_en'])).toEqual([
      '[KRITIS] GANGGUAN: Router pkm-petang-1-r1 di Puskesmas Petang I (Puskesmas, Belok Sidan, Kec. Petang) tidak merespons sejak 14:05 WITA, 22-11-2026.',
      '[CRITICAL] DOWN: Router pkm-petang-1-r1 at Puskesmas Petang I (community health centre, Belok Sidan, Petang district) not responding since 14:05 WITA, 22-11-2026.',
    ]);
    expect(
      templateParameters(n, ['site', 'desa', 'kecamatan', 'severity', 'since', 'link', 'incident']),
    ).toEqual([
      'Puskesmas Petang I',
      'Belok Sidan',
      'Petang',
      'critical',
      '14:05 WITA, 22-11-2026',
      `${LINK}/sites/pkm-petang-1`,
      alert.id,
    ]);
  });

  it('an empty value becomes "-" (Meta refuses an empty parameter)', () => {
    expect(templateParameters({ ...n, link: undefined }, ['link'])).toEqual(['-']);
  });

  it('oneLine', () => {
    expect(oneLine('a\n\nb\tc      d')).toBe('a · b c   d');
  });
});

describe('maskNumber', () => {
  it.each([
    ['6281234567890', '6281*****7890'],
    ['120363043123456789@g.us', '1203**********6789@g.us'],
    ['12', '12'],
  ])('%s → %s', (given, want) => expect(maskNumber(given)).toBe(want));
});
