/**
 * Checks the running demo (`npm start`): how many of the inventory's sites have samples in InfluxDB, and
 * how long after the monitor's start the last one arrived. Prints one JSON line; exit 0 when every site
 * has data, 1 when some have none by the deadline, 2 on a usage error, a refused token, or a monitor or
 * InfluxDB that did not answer by the deadline.
 *
 *   npx tsx scripts/check-demo.ts [--wait 120] [--api http://127.0.0.1:8080] [--influx http://127.0.0.1:8086]
 *                                 [--db netmon] [--token T]
 *
 * With --wait it may be started together with `npm start`: until the deadline, a monitor or InfluxDB that
 * is not up yet is asked again (every 2 s), as are sites without data. Reads the v1 API (GET
 * /api/v1/health for the start time and device count, /api/v1/sites for the sites) with a viewer token:
 * --token, else $NETMON_TOKEN, else var/demo-token (the demo token `npm start` makes). Times from the API
 * are read with Date.parse (ISO 8601 with offset) or as epoch milliseconds.
 */
import { readFileSync } from 'node:fs';
import { parseCommandArgs, usageError } from './lib/cli.ts';

const USAGE = `usage: scripts/check-demo.ts [--wait SECONDS] [--api URL] [--influx URL] [--db NAME] [--token T]

  --wait SECONDS  keep asking until every site has samples or this many seconds passed (default 0:
                  ask once); a monitor or InfluxDB not up yet is asked again meanwhile
  --api URL       the monitor's API (default http://127.0.0.1:$NETMON_HTTP_PORT, port 8080)
  --influx URL    InfluxDB (default $NETMON_INFLUX_URL, else http://127.0.0.1:$NETMON_INFLUX_PORT, port 8086)
  --db NAME       the database (default netmon)
  --token T       a viewer token (default: $NETMON_TOKEN, else var/demo-token)
  -h, --help      this text

Prints one JSON line. Exit 0: every site has samples; 1: not all by the deadline; 2: usage error,
refused token, or the monitor or InfluxDB did not answer by the deadline.`;

/** A failure that waiting will not cure (a refused token, a bad argument). */
class FatalError extends Error {}

interface Options {
  readonly api: string;
  readonly influx: string;
  readonly db: string;
  readonly waitS: number;
  readonly token: string | undefined;
}

function options(): Options {
  const values = parseCommandArgs('check-demo', USAGE, {
    api: { type: 'string', default: `http://127.0.0.1:${process.env.NETMON_HTTP_PORT || '8080'}` },
    influx: {
      type: 'string',
      default:
        process.env.NETMON_INFLUX_URL || `http://127.0.0.1:${process.env.NETMON_INFLUX_PORT || '8086'}`,
    },
    db: { type: 'string', default: 'netmon' },
    wait: { type: 'string', default: '0' },
    token: { type: 'string' },
  });
  const waitS = Number(values.wait);
  if (!Number.isFinite(waitS) || waitS < 0)
    usageError('check-demo', USAGE, `--wait must be a number of seconds >= 0, got '${values.wait}'`);
  return {
    api: values.api.replace(/\/+$/, ''),
    influx: values.influx.replace(/\/+$/, ''),
    db: values.db,
    waitS,
    token: values.token,
  };
}

function token(opts: Options): string {
  const t = opts.token ?? process.env.NETMON_TOKEN;
  if (t) return t;
  try {
    return readFileSync('var/demo-token', 'utf8').trim();
  } catch {
    throw new FatalError(
      'no API token: pass --token, set NETMON_TOKEN, or run npm start once (it makes var/demo-token)',
    );
  }
}

/** A time from the API: an ISO 8601 string (Date.parse) or epoch milliseconds. */
function parseTime(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

async function getJson(url: string, bearer: string): Promise<unknown> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${bearer}` },
    signal: AbortSignal.timeout(5000),
  });
  const body = await res.text();
  if (res.status === 401 || res.status === 403)
    throw new FatalError(`${url}: HTTP ${res.status}: ${body.slice(0, 200)} (a viewer token is needed)`);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${body.slice(0, 200)}`);
  return JSON.parse(body) as unknown;
}

interface MonitorFacts {
  readonly startedAt: number;
  readonly sites: number;
  readonly devices: number | undefined;
}

async function monitorFacts(opts: Options, bearer: string): Promise<MonitorFacts> {
  const asked = Date.now();
  const health = (await getJson(`${opts.api}/api/v1/health`, bearer)) as {
    details?: { startedAt?: unknown; uptimeS?: unknown; devices?: unknown };
  };
  const sites = (await getJson(`${opts.api}/api/v1/sites`, bearer)) as { sites?: unknown };
  const d = health.details ?? {};
  // The start time, if the API gives it; else from the uptime (whole seconds: one second earlier, to be sure).
  const startedAt =
    parseTime(d.startedAt) ?? (typeof d.uptimeS === 'number' ? asked - d.uptimeS * 1000 - 1000 : undefined);
  if (startedAt === undefined || !Array.isArray(sites.sites))
    throw new FatalError(
      `${opts.api}: /api/v1/health has no details.startedAt or uptimeS, or /api/v1/sites no sites list`,
    );
  return {
    startedAt,
    sites: sites.sites.length,
    devices: typeof d.devices === 'number' ? d.devices : undefined,
  };
}

interface Series {
  readonly tags?: Record<string, string>;
  readonly values: unknown[][];
}

async function query(opts: Options, q: string): Promise<Series[]> {
  const url = `${opts.influx}/query?db=${encodeURIComponent(opts.db)}&epoch=ms&q=${encodeURIComponent(q)}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`InfluxDB ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { results: { series?: Series[]; error?: string }[] };
  const r = body.results[0];
  if (r?.error) {
    // The database is made with the first write: until then, no site has data.
    if (/database not found/.test(r.error)) return [];
    throw new Error(r.error);
  }
  return r?.series ?? [];
}

/** Why a fetch failed, with the cause Node hides behind "fetch failed" (ECONNREFUSED...). */
function reason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return cause ? `${err.message} (${cause.code ?? cause.message ?? 'no detail'})` : err.message;
}

async function main(): Promise<number> {
  const opts = options();
  const bearer = token(opts);
  const deadline = Date.now() + opts.waitS * 1000;
  let facts: MonitorFacts | undefined;
  let said = '';
  const note = (what: string): void => {
    // Say once per kind of wait, on stderr; stdout keeps its one JSON line.
    if (what !== said) process.stderr.write(`check-demo: ${what}; asking again until the deadline\n`);
    said = what;
  };
  for (;;) {
    try {
      facts ??= await monitorFacts(opts, bearer);
      // The first device point of each site since the monitor started: its time says when the site was seen.
      // A ping-only site (an ISP's router without SNMP) has no device points: its first ping point counts.
      const since = Math.floor(facts.startedAt);
      const seen = new Map<string, number>();
      for (const q of [
        `SELECT first(reachable) FROM device WHERE time >= ${since}ms GROUP BY site`,
        `SELECT first(received) FROM ping WHERE time >= ${since}ms GROUP BY site`,
      ])
        for (const s of await query(opts, q)) {
          const site = s.tags?.site;
          const t = Number(s.values[0]?.[0]);
          if (site !== undefined && Number.isFinite(t)) seen.set(site, Math.min(t, seen.get(site) ?? t));
        }
      const times = [...seen.values()];
      const done = seen.size >= facts.sites;
      if (done || Date.now() >= deadline) {
        console.log(
          JSON.stringify({
            sitesWithSamples: seen.size,
            sitesInInventory: facts.sites,
            devices: facts.devices,
            lastSiteSeenAfterS: times.length
              ? Math.round((Math.max(...times) - facts.startedAt) / 100) / 10
              : null,
            complete: done,
          }),
        );
        return done ? 0 : 1;
      }
      note(`${seen.size} of ${facts.sites} sites have samples`);
    } catch (err) {
      if (err instanceof FatalError) throw err;
      const lastError = `${facts ? opts.influx : opts.api}: ${reason(err)}`;
      if (Date.now() >= deadline)
        throw new Error(
          `${facts ? 'InfluxDB' : 'the monitor'} did not answer${opts.waitS > 0 ? ` within ${opts.waitS} s` : ''} (last error: ${lastError}); is it running (npm start)? --wait 120 waits for it`,
          { cause: err },
        );
      note(`${facts ? 'InfluxDB' : 'the monitor'} is not answering yet (${lastError})`);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(2000, deadline - Date.now()))));
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`check-demo: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
