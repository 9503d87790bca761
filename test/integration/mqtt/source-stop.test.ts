/**
 * The collector's MQTT client stops even when its broker no longer answers: a clean end waits for the
 * messages in flight to be acknowledged, which a stalled link never does, so after its grace the client
 * closes the connection regardless (a stuck broker must not hold the monitor's stop). Real aedes broker, a
 * TCP proxy on loopback that stalls the link (forwards nothing, keeps the connection), the real MqttSource.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts, hashPassword } from '../../../broker/accounts.ts';
import { startEmbeddedBroker, type RunningBroker } from '../../../broker/embedded-broker.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import { MqttSource } from '../../../collector/sources/mqtt/mqtt-source.ts';
import { startTcpProxy, type TcpProxy } from '../../../scripts/lib/servers/tcp-proxy.ts';
import { nullWriter } from '../../support/monitor-fakes.ts';
import { smallInventory } from '../../support/fixtures.ts';

let broker: RunningBroker;
let proxy: TcpProxy;
const clock = new FakeClock(Date.UTC(2026, 11, 4, 4, 0));
const log = memoryLogger('info');

beforeAll(async () => {
  broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    accounts: new Accounts([
      {
        username: 'netmon-collector',
        passwordHash: hashPassword('collector-pw', { N: 1024 }),
        role: 'collector',
      },
    ]),
    log: memoryLogger('error'),
  });
  proxy = await startTcpProxy('127.0.0.1', Number(new URL(broker.url).port));
});
afterAll(async () => {
  await proxy?.stop();
  await broker?.close();
});

describe('MqttSource.stop()', () => {
  it('ends cleanly while the broker answers', async () => {
    const source = newSource();
    await source.start();
    source.publishAlert({ kind: 'test' });
    await source.stop();
    expect(log.records.filter((r) => r.msg.includes('did not end cleanly'))).toEqual([]);
  });

  it('closes the connection after its grace when the link stalls with a message in flight', async () => {
    const source = newSource();
    await source.start();
    proxy.cut('stall');
    source.publishAlert({ kind: 'test' }); // QoS 1: its PUBACK never comes
    let stopped = false;
    const stopping = source.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(stopped).toBe(false); // still waiting for the acknowledgement
    clock.advance(2_000);
    await stopping;
    expect(log.records.filter((r) => r.msg.includes('did not end cleanly'))).toHaveLength(1);
    proxy.restore();
  });
});

function newSource(): MqttSource {
  return new MqttSource({
    url: `mqtt://${proxy.address}`,
    username: 'netmon-collector',
    password: new Secret('collector-pw'),
    inventory: smallInventory(),
    clock,
    log,
    writer: nullWriter(),
    onLiveness: () => undefined,
    embedded: broker,
  });
}
