/**
 * Kept for the callers of the former runtime module: the composition root is collector/app.ts.
 */
export { startRuntime, tightenInventory, mqttHealth, type Runtime, type RuntimeOptions } from './app.ts';
