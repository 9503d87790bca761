/** Server ports for scripts and tests come from outside the kernel's ephemeral range (free-port.ts). */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  freeLoopbackPort,
  freeLoopbackUdpPort,
  parseEphemeralRange,
  serverPortRange,
} from '../../../scripts/lib/servers/free-port.ts';

describe('serverPortRange', () => {
  it('takes the larger stretch outside the ephemeral range, never below 10000', () => {
    expect(serverPortRange([32768, 60999])).toEqual([10000, 32767]);
    expect(serverPortRange([10000, 40000])).toEqual([40001, 65535]);
    expect(serverPortRange([1024, 65535])).toEqual([10000, 1023]); // nothing outside: draw() then fails
  });

  it('reads /proc/sys/net/ipv4/ip_local_port_range, and the usual default when it cannot', () => {
    expect(parseEphemeralRange('32768\t60999\n')).toEqual([32768, 60999]);
    expect(parseEphemeralRange('49152 65535')).toEqual([49152, 65535]);
    expect(parseEphemeralRange(undefined)).toEqual([32768, 60999]);
    expect(parseEphemeralRange('60999 32768')).toEqual([32768, 60999]);
    expect(parseEphemeralRange('garbage')).toEqual([32768, 60999]);
  });
});

describe('freeLoopbackPort / freeLoopbackUdpPort', () => {
  it('give ports outside the ephemeral range that a server can then bind', async () => {
    const ephemeral = parseEphemeralRange(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'));
    const [lo, hi] = serverPortRange(ephemeral);
    for (let i = 0; i < 5; i++) {
      const tcp = await freeLoopbackPort();
      const udp = await freeLoopbackUdpPort();
      for (const p of [tcp, udp]) {
        expect(p).toBeGreaterThanOrEqual(lo);
        expect(p).toBeLessThanOrEqual(hi);
      }
      const srv = createServer();
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(tcp, '127.0.0.1', resolve);
      });
      await new Promise((r) => srv.close(r));
    }
  });
});
