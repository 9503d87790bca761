/**
 * Small transforms the config schemas share, so that a schema's output is what the code reads and no
 * mapping repeats the schema's keys.
 */
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * `{ interval, jitter }` -> `{ intervalMs, jitterMs }` for the durations named: the YAML says `interval:
 * 2m`, the code reads `intervalMs`. The other keys pass as they are.
 */
export type WithMs<T, K extends keyof T & string> = T extends unknown
  ? Omit<T, K> & { readonly [P in K as `${P}Ms`]: T[P] }
  : never;
export function withMs<T extends object, K extends keyof T & string>(v: T, ...keys: K[]): WithMs<T, K> {
  const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  for (const k of keys) {
    out[`${k}Ms`] = out[k];
    delete out[k];
  }
  return out as WithMs<T, K>;
}

/** Paths in the config are relative to its own directory (`base`). */
export const pathIn = (base: string) =>
  z
    .string()
    .min(1)
    .transform((p) => resolve(base, p));

/**
 * `K` may be left out: parseConfig fills every one of them from its default, but a config built in code
 * (tests, tools) may omit what it does not use, and the code reading it falls back to the same defaults.
 */
export type Omittable<T, K extends keyof T> = Omit<T, K> & { readonly [P in K]?: T[P] | undefined };

/** Keys whose value may be undefined may also be absent (distributes over a union). */
export type Loose<T> = T extends object
  ? Omit<T, UndefinedKeys<T>> & { readonly [P in UndefinedKeys<T>]?: T[P] }
  : T;
export type UndefinedKeys<T> = { [P in keyof T]-?: undefined extends T[P] ? P : never }[keyof T];
