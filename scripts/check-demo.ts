/**
 * Checks the running demo (`npm start`): how many of the inventory's sites have samples in InfluxDB, and
 * how long after the monitor's start the last one arrived. Prints one line and exits 0 when every site has
 * data, 1 otherwise.
 *
 *   npx tsx scripts/check-demo.ts [--influx http://127.0.0.1:8086] [--db netmon] [--wait 120] [--token T]
 *
 * The monitor's status needs a viewer token: --token, else $NETMON_TOKEN, else var/demo-token (the demo
 * token `npm start` makes).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    influx: { type: 'string', default: 'http://127.0.0.1:8086' },
    db: { type: 'string', default: 'netmon' },
    status: { type: 'string', default: 'http://127.0.0.1:8080/api/status' },
    wait: { type: 'string', default: '0' },
    token: { type: 'string' },
  },
});

interface Series {
  readonly tags?: Record<string, string>;
  readonly values: unknown[][];
}

async function query(q: string): Promise<Series[]> {
  const url = `${values.influx}/query?db=${encodeURIComponent(values.db)}&epoch=ms&q=${encodeURIComponent(q)}`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`InfluxDB ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { results: { series?: Series[]; error?: string }[] };
  const r = body.results[0];
  if (r?.error) throw new Error(r.error);
  return r?.series ?? [];
}

function token(): string {
  const t = values.token ?? process.env.NETMON_TOKEN;
  if (t) return t;
  try {
    return readFileSync('var/demo-token', 'utf8').trim();
  } catch {
    throw new Error(
      'no API token: pass --token, set NETMON_TOKEN, or run npm start once (it makes var/demo-token)',
    );
  }
}

async function main(): Promise<number> {
  const res = await fetch(values.status, { headers: { authorization: `Bearer ${token()}` } });
  if (!res.ok) throw new Error(`${values.status}: HTTP ${res.status}: ${await res.text()}`);
  const status = (await res.json()) as { startedAt: number; sites: number; devices: number };
  const deadline = Date.now() + Number(values.wait) * 1000;
  for (;;) {
    // The first device point of each site since the monitor started: its time says when the site was seen.
    const firsts = await query(
      `SELECT first(reachable) FROM device WHERE time >= ${status.startedAt}ms GROUP BY site`,
    );
    const times = firsts.map((s) => Number(s.values[0]?.[0]));
    const done = firsts.length >= status.sites;
    if (done || Date.now() >= deadline) {
      console.log(
        JSON.stringify({
          sitesWithSamples: firsts.length,
          sitesInInventory: status.sites,
          devices: status.devices,
          lastSiteSeenAfterS: times.length
            ? Math.round((Math.max(...times) - status.startedAt) / 100) / 10
            : null,
          complete: done,
        }),
      );
      return done ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`check-demo: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
