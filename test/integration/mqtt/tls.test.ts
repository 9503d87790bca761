/** The embedded broker over TLS when a certificate is configured (a throwaway self-signed one here). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts, hashPassword } from '../../../broker/accounts.ts';
import { startEmbeddedBroker, type RunningBroker } from '../../../broker/embedded-broker.ts';
import { memoryLogger } from '../../../collector/core/log.ts';

let dir: string;
let broker: RunningBroker;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    accounts: new Accounts([
      {
        username: 'netmon-collector',
        passwordHash: hashPassword('collector-secret', { N: 1024 }),
        role: 'collector',
      },
    ]),
    log: memoryLogger('warn'),
    tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') },
  });
});
afterAll(async () => {
  await broker?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('embedded broker with TLS', () => {
  it('serves mqtts with the configured certificate and still requires a login', async () => {
    expect(broker.url).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(join(dir, 'cert.pem'));
    const c = await mqtt.connectAsync(broker.url, {
      username: 'netmon-collector',
      password: 'collector-secret',
      ca,
      reconnectPeriod: 0,
    });
    expect(c.connected).toBe(true);
    await c.endAsync();
    await expect(mqtt.connectAsync(broker.url, { ca, reconnectPeriod: 0 })).rejects.toThrow(/Not authorized/);
    // A client that does not trust the certificate cannot connect.
    await expect(
      mqtt.connectAsync(broker.url, {
        username: 'netmon-collector',
        password: 'collector-secret',
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/self-signed|certificate/i);
  });
});
