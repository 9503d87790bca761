/** Mosquitto for the tests: the same starter the benchmark uses. */
export { startMosquitto, type Mosquitto } from '../../scripts/lib/servers/mosquitto.ts';
