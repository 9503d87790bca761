/**
 * What is this device, and what would the monitor read from it? Asks the agent its sysObjectID and
 * sysDescr, matches them against the detection table (config/detect.yaml) the way `profile: auto` does,
 * then polls it once with that profile (or --profile) and prints the interfaces and Wi-Fi client counts.
 *
 *   npx tsx scripts/detect.ts 10.20.0.2
 *   npx tsx scripts/detect.ts 10.20.0.1 --port 1161 --community s3cret
 *   npx tsx scripts/detect.ts 10.20.0.1 --v3-user netmon --auth-key K --priv-key P [--auth-protocol sha]
 *   npx tsx scripts/detect.ts 10.20.0.2 --json
 *
 * Exit 0 when the device answered (an unknown vendor included: it is polled with the generic profile, and
 * the output says so), 1 when it did not answer, 2 on a usage error.
 */
import { Secret } from '../collector/core/secret.ts';
import { errorMessage } from '../collector/core/errors.ts';
import type { Device, SnmpAuthProtocol, SnmpCredentials, SnmpPrivProtocol } from '../collector/core/types.ts';
import { detectDevice, type Detection } from '../collector/sources/snmp/detect.ts';
import { SnmpPoller, type PollDetail } from '../collector/sources/snmp/poller.ts';
import { openSnmpClient } from '../collector/sources/snmp/session.ts';
import { loadDetectionTable } from '../config/detection.ts';
import { loadProfiles } from '../config/profiles.ts';
import { parseCommandArgs, usageError } from './lib/cli.ts';

const AUTH: readonly SnmpAuthProtocol[] = ['md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512'];
const PRIV: readonly SnmpPrivProtocol[] = ['des', 'aes', 'aes256b', 'aes256r'];

const usage = `usage: scripts/detect.ts HOST [--port P] [--community C | --v3-user U [--auth-key K] [--auth-protocol ${AUTH.join('|')}]
                         [--priv-key K] [--priv-protocol ${PRIV.join('|')}]] [--profile NAME] [--timeout MS] [--json]
  Detects the vendor of the SNMP agent at HOST (port 161, community "public" by default) from its
  sysObjectID and sysDescr (config/detect.yaml), and polls it once with the profile it would get.
  --profile NAME polls with that profile instead; --json prints one JSON object.`;

const fail = (message: string): never => usageError('detect', usage, message);

// HOST comes first; the options after it go through the project's strict parser (it takes no positionals).
const argv = process.argv.slice(2);
const host = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined;
const values = parseCommandArgs(
  'detect',
  usage,
  {
    port: { type: 'string' },
    community: { type: 'string' },
    'v3-user': { type: 'string' },
    'auth-key': { type: 'string' },
    'auth-protocol': { type: 'string' },
    'priv-key': { type: 'string' },
    'priv-protocol': { type: 'string' },
    profile: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
  },
  host === undefined ? argv : argv.slice(1),
);
const HOST: string = host ?? fail('HOST is required, first');

const port = Number(values.port ?? 161);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port ${values.port}: expected 1..65535`);
const timeoutMs = Number(values.timeout ?? 3000);
if (!(timeoutMs > 0)) fail(`--timeout ${values.timeout}: expected milliseconds > 0`);

function credentials(): SnmpCredentials {
  const user = values['v3-user'];
  if (user === undefined) {
    for (const k of ['auth-key', 'priv-key', 'auth-protocol', 'priv-protocol'] as const)
      if (values[k] !== undefined) fail(`--${k} needs --v3-user`);
    return { version: '2c', community: new Secret(values.community ?? 'public') };
  }
  if (values.community !== undefined) fail('--community and --v3-user exclude each other');
  const authProtocol = (values['auth-protocol'] ?? 'sha') as SnmpAuthProtocol;
  const privProtocol = (values['priv-protocol'] ?? 'aes') as SnmpPrivProtocol;
  if (!AUTH.includes(authProtocol))
    fail(`--auth-protocol ${authProtocol}: expected one of ${AUTH.join(', ')}`);
  if (!PRIV.includes(privProtocol))
    fail(`--priv-protocol ${privProtocol}: expected one of ${PRIV.join(', ')}`);
  const authKey = values['auth-key'];
  const privKey = values['priv-key'];
  if (privKey !== undefined && authKey === undefined) fail('--priv-key needs --auth-key (SNMPv3 authPriv)');
  return {
    version: '3',
    user,
    level: privKey !== undefined ? 'authPriv' : authKey !== undefined ? 'authNoPriv' : 'noAuthNoPriv',
    authProtocol: authKey !== undefined ? authProtocol : undefined,
    authKey: authKey !== undefined ? new Secret(authKey) : undefined,
    privProtocol: privKey !== undefined ? privProtocol : undefined,
    privKey: privKey !== undefined ? new Secret(privKey) : undefined,
  };
}

const profiles = loadProfiles();
if (values.profile !== undefined && !profiles.has(values.profile))
  fail(`--profile ${values.profile}: expected one of ${[...profiles.keys()].sort().join(', ')}`);
const device: Device = {
  id: HOST,
  siteId: 'detect',
  role: 'router',
  host: HOST,
  port,
  profile: 'auto',
  snmp: credentials(),
};

function print(d: Detection, profile: string, poll: PollDetail): void {
  const { reading } = poll;
  const lines = [
    `device       ${HOST}:${port}`,
    `sysObjectID  ${d.sysObjectID ?? '(none)'}`,
    `sysDescr     ${d.sysDescr?.replace(/\s+/g, ' ').slice(0, 160) ?? '(none)'}`,
    `sysUpTime    ${d.sysUpTimeCs === undefined ? '(none)' : `${(d.sysUpTimeCs / 8_640_000).toFixed(2)} days`}`,
    d.fallback
      ? `vendor       unknown: no rule in config/detect.yaml matches; polled with the generic profile (interfaces only)`
      : `vendor       ${d.vendor} (config/detect.yaml line ${d.rule?.line ?? '?'})`,
    `profile      ${profile}${profile !== d.profile ? ` (given; detection says ${d.profile})` : ''}: ${profiles.get(profile)?.description ?? ''}`,
    `read         ${reading.interfaces.length} interfaces, ${reading.wifi.length} Wi-Fi rows in ${poll.requests} requests${poll.warnings.length > 0 ? `, ${poll.warnings.length} values skipped` : ''}`,
  ];
  for (const i of reading.interfaces) {
    const oper =
      ['', 'up', 'down', 'testing', 'unknown', 'dormant', 'notPresent', 'lowerLayerDown'][
        i.operStatus ?? 0
      ] ?? '?';
    lines.push(
      `  if ${String(i.ifIndex).padStart(5)}  ${i.name.padEnd(24)} ${oper.padEnd(8)} in ${i.inOctets ?? '-'} out ${i.outOctets ?? '-'} (${i.counterBits}-bit)`,
    );
  }
  for (const w of reading.wifi) {
    const labels = [
      w.ssid !== undefined ? `ssid ${w.ssid}` : '',
      w.radio !== undefined ? `radio ${w.radio}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(
      `  wifi ${w.index.padEnd(30)} ${String(w.clients).padStart(5)} clients${labels ? `  (${labels})` : ''}`,
    );
  }
  for (const w of poll.warnings) lines.push(`  skipped ${w.oid} ${w.field}: ${w.reason}`);
  console.log(lines.join('\n'));
}

const client = openSnmpClient(device, { timeoutMs, retries: 1 });
const poller = new SnmpPoller({ timeoutMs, retries: 1, maxRepetitions: 25, profiles });
try {
  const d = await detectDevice(client, loadDetectionTable());
  const profile = values.profile ?? d.profile;
  const poll = await poller.pollDetailed({ ...device, profile });
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          host: HOST,
          port,
          ...d,
          rule: d.rule?.line,
          profile,
          reading: poll.reading,
          warnings: poll.warnings,
        },
        (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
        2,
      ),
    );
  } else print(d, profile, poll);
} catch (err) {
  console.error(`detect: ${HOST}:${port} did not answer: ${errorMessage(err)}`);
  process.exitCode = 1;
} finally {
  client.close();
  poller.close();
}
