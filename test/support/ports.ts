/** A TCP port on 127.0.0.1 that was free a moment ago (tests never use fixed ports). */
export { freeLoopbackPort as freeTcpPort } from '../../scripts/lib/servers/process.ts';

/** A UDP port on 127.0.0.1 that was free a moment ago, outside the kernel's ephemeral range. */
export { freeLoopbackUdpPort as freeUdpPort } from '../../scripts/lib/servers/free-port.ts';

/** Poll `check` until it returns a truthy value or the deadline passes. Never a bare sleep. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string | (() => string) } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message})` : '';
      const what = typeof opts.what === 'function' ? opts.what() : opts.what;
      throw new Error(`timed out waiting for ${what ?? 'condition'}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
