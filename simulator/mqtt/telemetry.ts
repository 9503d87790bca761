/**
 * The telemetry a simulated device publishes, shaped like what a real agent sends: an OpenWrt router's
 * agent (metrics plus board, firmware and per-radio details: 250-460 bytes of JSON, by its radios) and a site sensor's
 * (supply, temperature and its own radio: about 170 bytes). The collector stores the metrics it knows
 * (broker/payloads.ts) and ignores the rest, as it must with real agents. Pure: values and time in, JSON out.
 * The broker benchmark (scripts/bench-mqtt.ts) publishes these same payloads.
 */
import { witaHourOfDay } from '../../collector/core/time-zone.ts';
import type { DeviceValues } from '../device-model.ts';

/** The simulated day in Bali (WITA, UTC+8): 0 at midnight, 0.5 at noon. */
const dayFraction = (nowMs: number): number => witaHourOfDay(nowMs) / 24;
const round1 = (x: number): number => Math.round(x * 10) / 10;

/** An OpenWrt router's telemetry from the simulated SNMP values (the same counters the poller reads). */
export function routerTelemetry(deviceId: string, v: DeviceValues, nowMs: number): Record<string, unknown> {
  const day = dayFraction(nowMs);
  const clients = v.wifi.reduce((n, w) => n + w.clients, 0);
  return {
    ts: nowMs,
    uptime_s: Math.floor(v.sysUpTimeCs / 100),
    cpu_pct: round1(8 + 30 * day),
    mem_pct: 41.5,
    load1: round1(0.1 + clients / 40),
    clients,
    rx_bps: Math.round(v.interfaces.reduce((n, i) => n + i.inRateBps, 0)),
    tx_bps: Math.round(v.interfaces.reduce((n, i) => n + i.outRateBps, 0)),
    temperature_c: round1(45 + 8 * Math.sin(2 * Math.PI * (day - 0.375))),
    host: deviceId,
    board: 'linksys,wrt1200ac',
    fw: 'OpenWrt 23.05.3 r23809-234f1a2efa',
    radios: v.wifi.map((w) => ({
      ssid: w.ssid,
      band: w.radio === 'na' ? '5g' : '2g',
      ch: w.radio === 'na' ? 44 : 6,
      noise: w.radio === 'na' ? -102 : -95,
      sta: w.clients,
    })),
  };
}

/** A site sensor's telemetry: temperature that follows the day, a 12 V supply, its Wi-Fi signal. */
export function sensorTelemetry(deviceId: string, nowMs: number, uptimeS: number): Record<string, unknown> {
  const day = dayFraction(nowMs);
  return {
    ts: nowMs,
    uptime_s: Math.round(uptimeS),
    temperature_c: round1(27 + 5 * Math.sin(2 * Math.PI * (day - 0.375))),
    power_v: 12.1,
    rssi_dbm: -67,
    host: deviceId,
    model: 'ESP32-C3 env sensor',
    fw: 'netmon-agent 1.4.2',
  };
}
