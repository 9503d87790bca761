/**
 * The simulator's control API over HTTP/JSON, on loopback only:
 *
 *   GET  /status                       fleet status: every device (MQTT-only sensors too), MQTT connections
 *   GET  /devices/:id                  a device's state and the values it serves (or publishes) now
 *   POST /sites/:id/cut | restore      a site loses / regains power or uplink (all its devices go silent)
 *   POST /devices/:id/cut | restore    one device
 *   POST /devices/:id/reboot           sysUpTime and counters restart from 0
 *   POST /devices/:id/slow             body {"delayMs": 2500} (0 = prompt again)
 *   POST /devices/:id/wrap32           body {"withinS": 60}
 *   POST /devices/:id/mqtt-drop        its MQTT connection drops abruptly (the broker sends its Will)
 *   POST /devices/:id/mqtt-disconnect  it disconnects cleanly (says offline first)
 *   POST /devices/:id/mqtt-restore     it connects again
 *   POST /devices/:id/snmp-stop        its SNMP agent stops answering; it still answers ping, and the
 *                                      devices behind it are still reached
 *   POST /devices/:id/snmp-start       its agent answers again
 *   POST /devices/:id/trap             body {"type": "linkDown", "ifIndex"?: 2}: a trap from the device's
 *                                      address to the monitor's receiver (traps.ts), with the device's own
 *                                      credentials: its SNMPv2c community, or its SNMPv3 user and keys.
 *                                      "community": "..." sends SNMPv2c with that community instead, and
 *                                      "user": "..." SNMPv3 under that user name (both: to test refusals)
 * (cut and restore of a site or device also drop and restore its MQTT devices; with `blackhole` (root),
 * the address of every device a cut silences (the device, its site, what is behind them) is blackholed
 * too, so it stops answering ping as on a real network: blackhole.ts)
 *
 * The demo's webhook receiver (webhook-inbox.ts), so the tour's page can be watched:
 *   POST   /webhook                    a notification (JSON) from the monitor's webhook channel: 204
 *   GET    /webhook                    the last ones, newest first: JSON, or one line each with ?format=text
 *   DELETE /webhook                    forget them
 *
 * Errors are JSON {"error": "..."} with 400 (bad body or argument), 404 (unknown route, site or
 * device) or 405 (wrong method).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FleetSimulator } from './fleet.ts';
import type { MqttFleet } from './mqtt/mqtt-fleet.ts';
import { SimulatorControlError, SimulatorStartError } from './errors.ts';
import { isLoopback } from './fleet.ts';
import type { Logger } from '../collector/core/log.ts';
import { deliveryLine, WebhookInbox } from './webhook-inbox.ts';
import type { Blackholes } from './blackhole.ts';
import { sendTrap, TRAP_TYPES, type TrapToSend, type TrapType } from './traps.ts';

const MAX_BODY = 16 * 1024;
/** A notification lists the devices and sites it affects: an area incident can be large. */
const MAX_WEBHOOK_BODY = 1024 * 1024;

type Json = Record<string, unknown>;

export class ControlServer {
  readonly #sim: FleetSimulator;
  readonly #host: string;
  readonly #port: number;
  #server: Server | undefined;
  #url = '';

  readonly #mqtt: MqttFleet | undefined;
  readonly #log: Logger | undefined;
  readonly #blackhole: Blackholes | undefined;
  readonly #traps: ControlTraps | undefined;
  /** What the monitor's webhook channel sent here (the demo config points one at /webhook). */
  readonly webhooks = new WebhookInbox();

  constructor(
    sim: FleetSimulator,
    opts: {
      host: string;
      port: number;
      mqtt?: MqttFleet | undefined;
      log?: Logger | undefined;
      blackhole?: Blackholes | undefined;
      traps?: ControlTraps | undefined;
    },
  ) {
    if (!isLoopback(opts.host)) throw new SimulatorStartError(`control address ${opts.host} is not loopback`);
    this.#sim = sim;
    this.#mqtt = opts.mqtt;
    this.#log = opts.log;
    this.#blackhole = opts.blackhole;
    this.#traps = opts.traps;
    this.#host = opts.host;
    this.#port = opts.port;
  }

  /** Base URL, e.g. http://127.0.0.1:8099 (after start()). */
  get url(): string {
    return this.#url;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        send(res, 500, { error: err instanceof Error ? err.message : String(err) });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new SimulatorStartError(
            `control server cannot listen on ${this.#host}:${this.#port}: ${err.message}`,
            { cause: err },
          ),
        ),
      );
      server.listen(this.#port, this.#host, () => resolve());
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : this.#port;
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    this.#url = `http://${host}:${port}`;
    this.#server = server;
    return this.#url;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const sim = this.#sim;
    try {
      if (parts.length === 1 && parts[0] === 'webhook') return await this.#webhook(req, res, url, method);
      if (parts.length === 1 && parts[0] === 'status') {
        if (method !== 'GET') return send(res, 405, { error: 'use GET /status' });
        return send(res, 200, {
          ...sim.status(),
          ...(this.#mqtt ? { mqtt: { devices: this.#mqtt.size, ...this.#mqtt.status() } } : {}),
        });
      }
      const [kind, id, action] = parts;
      if ((kind === 'sites' || kind === 'devices') && id !== undefined) {
        if (kind === 'devices' && action === undefined) {
          if (method !== 'GET') return send(res, 405, { error: 'use GET /devices/:id' });
          const status = sim.deviceStatus(id);
          const mqttState = this.#mqtt?.stateOf(id);
          // An MQTT-only sensor has no SNMP values: show what it publishes instead.
          const values = sim.isMqttOnly(id)
            ? this.#mqtt?.has(id)
              ? this.#mqtt.telemetryOf(id)
              : null
            : sim.valuesAt(id);
          return send(res, 200, { ...status, ...(mqttState ? { mqtt: mqttState } : {}), values });
        }
        if (action === undefined || parts.length !== 3)
          return send(res, 404, { error: `no route ${url.pathname}` });
        if (method !== 'POST') return send(res, 405, { error: `use POST ${url.pathname}` });
        const body = await readJson(req, MAX_BODY);
        const mqtt = this.#mqtt;
        if (kind === 'sites') {
          if (action === 'cut') {
            sim.cutSite(id);
            mqtt?.cutSite(id);
          } else if (action === 'restore') {
            sim.restoreSite(id);
            mqtt?.restoreSite(id);
          } else return send(res, 404, { error: `no site action ${action}; use cut or restore` });
          await this.#syncBlackholes();
          return send(res, 200, { ok: true, site: id, action });
        }
        const hasMqtt = mqtt?.has(id) === true;
        switch (action) {
          case 'cut':
            // Every device is in the fleet's model (MQTT-only ones too); its MQTT connection drops with it.
            sim.cutDevice(id);
            if (hasMqtt) mqtt?.drop(id);
            await this.#syncBlackholes();
            return send(res, 200, { ok: true, device: id, action });
          case 'restore':
            sim.restoreDevice(id);
            if (hasMqtt) mqtt?.restore(id);
            await this.#syncBlackholes();
            return send(res, 200, { ok: true, device: id, action });
          case 'snmp-stop':
            sim.stopSnmp(id);
            return send(res, 200, { ok: true, device: id, action });
          case 'snmp-start':
            sim.startSnmp(id);
            return send(res, 200, { ok: true, device: id, action });
          case 'trap':
            return send(res, 200, { ok: true, device: id, action, ...(await this.#trap(id, body)) });
          case 'mqtt-drop':
          case 'mqtt-disconnect':
          case 'mqtt-restore': {
            if (!mqtt || !hasMqtt) {
              sim.deviceStatus(id); // an unknown device is a 404 that says so
              return send(res, 409, { error: `device ${id} has no MQTT connection in this simulator` });
            }
            if (action === 'mqtt-drop') mqtt.drop(id);
            else if (action === 'mqtt-disconnect') await mqtt.disconnect(id);
            else mqtt.restore(id);
            return send(res, 200, { ok: true, device: id, action });
          }
          case 'reboot':
            return send(res, 200, { ok: true, device: id, action, ...sim.rebootDevice(id) });
          case 'slow': {
            const delayMs = numberField(body, url, 'delayMs');
            sim.slowDevice(id, delayMs);
            return send(res, 200, { ok: true, device: id, action, delayMs });
          }
          case 'wrap32': {
            const withinS = numberField(body, url, 'withinS');
            return send(res, 200, { ok: true, device: id, action, ...sim.wrapCounters32(id, withinS) });
          }
          default:
            return send(res, 404, {
              error: `no device action ${action}; use cut, restore, reboot, slow, wrap32, snmp-stop, snmp-start, trap, mqtt-drop, mqtt-disconnect or mqtt-restore`,
            });
        }
      }
      return send(res, 404, { error: `no route ${url.pathname}` });
    } catch (err) {
      if (err instanceof SimulatorControlError) return send(res, err.status, { error: err.message });
      throw err;
    }
  }

  /** Blackhole exactly the addresses the cuts silence now (no-op without a Blackholes: not root). */
  async #syncBlackholes(): Promise<void> {
    if (this.#blackhole) await this.#blackhole.sync(this.#sim.cutAddresses());
  }

  async #trap(id: string, body: Json): Promise<Json> {
    const traps = this.#traps;
    const sim = this.#sim;
    if (!traps)
      throw new SimulatorControlError(
        409,
        'no trap receiver configured (simulator/main.ts --trap-to HOST:PORT)',
      );
    const type = body.type;
    if (typeof type !== 'string' || !(TRAP_TYPES as readonly string[]).includes(type))
      throw new SimulatorControlError(400, `type must be one of ${TRAP_TYPES.join(', ')}`);
    for (const k of ['community', 'user'] as const)
      if (body[k] !== undefined && typeof body[k] !== 'string')
        throw new SimulatorControlError(400, `${k} must be a string`);
    const ifIndex = body.ifIndex;
    if (ifIndex !== undefined && (typeof ifIndex !== 'number' || !Number.isInteger(ifIndex) || ifIndex < 1))
      throw new SimulatorControlError(400, 'ifIndex must be an interface index (an integer from 1)');
    const own = sim.trapSecurity(id);
    const community = body.community as string | undefined;
    const user = body.user as string | undefined;
    let security: Pick<TrapToSend, 'community' | 'v3'>;
    if (community !== undefined) security = { community };
    else if (user !== undefined) {
      if (!('v3' in own))
        throw new SimulatorControlError(
          409,
          `device ${id} speaks SNMPv2c: send "community" instead of "user"`,
        );
      security = { v3: { ...own.v3, credentials: { ...own.v3.credentials, user } } };
    } else security = own;
    const from = hostOf(sim.deviceStatus(id).endpoint, id);
    const uptimeCs = sim.valuesAt(id).sysUpTimeCs;
    await sendTrap({ from, to: traps.to, ...security, type: type as TrapType, uptimeCs, ifIndex });
    return {
      type,
      from,
      to: `${traps.to.host}:${traps.to.port}`,
      version: security.v3 ? '3' : '2c',
      ...(security.v3 ? { user: security.v3.credentials.user } : {}),
    };
  }

  async #webhook(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    if (method === 'POST') {
      const d = this.webhooks.add(await readJson(req, MAX_WEBHOOK_BODY), Date.now());
      this.#log?.info('webhook received', { line: deliveryLine(d) });
      res.writeHead(204).end();
      return;
    }
    if (method === 'DELETE') {
      this.webhooks.clear();
      res.writeHead(204).end();
      return;
    }
    if (method !== 'GET') return send(res, 405, { error: 'use POST, GET or DELETE /webhook' });
    const sinceRaw = url.searchParams.get('since') ?? '0';
    const since = Number(sinceRaw);
    if (!Number.isSafeInteger(since) || since < 0)
      throw new SimulatorControlError(
        400,
        `since must be a delivery number (0, 1, 2, ...), not '${sinceRaw}'`,
      );
    const list = this.webhooks.list(since);
    if (url.searchParams.get('format') === 'text') {
      const text = list.length
        ? `${list.map(deliveryLine).join('\n')}\n`
        : 'belum ada notifikasi / no notification yet\n';
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
      return;
    }
    return send(res, 200, { received: this.webhooks.received, deliveries: list });
  }
}

function send(res: ServerResponse, status: number, body: Json): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage, maxBytes: number): Promise<Json> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > maxBytes)
      throw new SimulatorControlError(400, `request body too large (over ${maxBytes} bytes)`);
    chunks.push(b);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SimulatorControlError(400, 'request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SimulatorControlError(400, 'request body must be a JSON object');
  }
  return parsed as Json;
}

/** A number from the JSON body, or else from the query string (`?delayMs=500`). */
function numberField(body: Json, url: URL, name: string): number {
  const raw = body[name] ?? url.searchParams.get(name) ?? undefined;
  if (raw === undefined) throw new SimulatorControlError(400, `missing ${name}`);
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n)) throw new SimulatorControlError(400, `${name} must be a number`);
  return n;
}

/** Where POST /devices/:id/trap sends (the monitor's trap receiver). */
export interface ControlTraps {
  readonly to: { readonly host: string; readonly port: number };
}

function hostOf(endpoint: string | null, id: string): string {
  if (!endpoint) throw new SimulatorControlError(409, `device ${id} has no address (MQTT only)`);
  return endpoint.slice(0, endpoint.lastIndexOf(':'));
}
