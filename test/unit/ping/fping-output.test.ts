import { describe, expect, it } from 'vitest';
import { parseFpingOutput, pingStats } from '../../../collector/sources/ping/fping-output.ts';

// Captured from Debian's fping 5.1 (`fping -C 2 -q -t 500 -p 200 -i 1 -r 0 -f -`) on this machine, with
// 127.77.7.1 blackholed (ip route add blackhole 127.77.7.1/32 table local).
const REAL = '127.77.7.1 : - -\n127.0.0.5  : 0.062 0.052\n';

describe('fping -C output', () => {
  it('reads answered and lost targets', () => {
    const r = parseFpingOutput(REAL, ['127.77.7.1', '127.0.0.5'], 2);
    expect(r.unreadable).toEqual([]);
    expect(r.missing).toEqual([]);
    expect(r.tallies.get('127.0.0.5')?.rttsMs).toEqual([0.062, 0.052]);
    expect(r.tallies.get('127.77.7.1')?.rttsMs).toEqual([undefined, undefined]);
  });

  it('keeps ICMP diagnostics out and reports lines it does not know, and targets without a line', () => {
    const text = [
      'ICMP Host Unreachable from 10.0.0.1 for ICMP Echo sent to 10.0.0.9',
      '10.0.0.9 : - 1.5',
      'fping: something odd happened',
      '10.0.0.8 : 1.0', // wrong count of values: not taken as a result
      'gw.example : Name or service not known',
    ].join('\n');
    const r = parseFpingOutput(text, ['10.0.0.9', '10.0.0.8', '10.0.0.7'], 2);
    expect([...r.tallies.keys()]).toEqual(['10.0.0.9']);
    expect(r.unreadable).toEqual([
      'fping: something odd happened',
      '10.0.0.8 : 1.0',
      'gw.example : Name or service not known',
    ]);
    expect(r.missing).toEqual(['10.0.0.8', '10.0.0.7']);
  });

  it('does not take a result for a target it did not ask for', () => {
    const r = parseFpingOutput('10.9.9.9 : 0.1\n', ['10.0.0.1'], 1);
    expect(r.tallies.size).toBe(0);
    expect(r.unreadable).toEqual(['10.9.9.9 : 0.1']);
    expect(r.missing).toEqual(['10.0.0.1']);
  });

  it('computes RTT and loss', () => {
    expect(pingStats({ host: 'x', rttsMs: [1, undefined, 3, undefined] })).toEqual({
      sent: 4,
      received: 2,
      lossPct: 50,
      rttMs: 2,
      rttMinMs: 1,
      rttMaxMs: 3,
    });
    expect(pingStats({ host: 'x', rttsMs: [undefined] })).toEqual({ sent: 1, received: 0, lossPct: 100 });
  });
});
