/**
 * collector/core/log.ts on pino: JSON lines with level, time and msg; Errors with their cause chains and
 * stacks; a circular field or a throwing one never makes logging throw.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, memoryLogger, type LogRecord } from '../../../collector/core/log.ts';

function capture(level: 'debug' | 'info' = 'debug') {
  const lines: string[] = [];
  const records: LogRecord[] = [];
  const log = createLogger({
    level,
    now: () => Date.UTC(2026, 11, 3, 14, 15),
    write: (l, r) => (lines.push(l), records.push(r)),
    bindings: { app: 'badung-netmon' },
  });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, records, parsed };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the logger', () => {
  it('writes one JSON line per call: level by name, ISO time, msg, bindings and fields; no pid or hostname', () => {
    const { log, lines, parsed } = capture('info');
    log.debug('not at info');
    log.child({ component: 'poller' }).info('polled', { devices: 3, big: 12345678901234567890n });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(parsed()[0]).toEqual({
      level: 'info',
      time: '2026-12-03T14:15:00.000Z',
      msg: 'polled',
      app: 'badung-netmon',
      component: 'poller',
      devices: 3,
      big: '12345678901234567890',
    });
  });

  it('keeps the cause chain and the stack of an Error at any depth, redacted', () => {
    const { log, parsed, records } = capture();
    const root = new TypeError('connect ECONNREFUSED 127.0.0.1:8086?token=t0p');
    const mid = Object.assign(new Error('write failed', { cause: root }), {
      code: 'EWRITE',
      retryable: true,
    });
    const top = new Error('flush to https://u:pw9@influx/write failed', { cause: mid });
    log.error('sink failed', { err: top, nested: { list: [new RangeError('deep')] } });
    const err = parsed()[0]?.err as Record<string, unknown>;
    expect(err).toMatchObject({
      name: 'Error',
      message: 'flush to https://u:[redacted]@influx/write failed',
      cause: {
        name: 'Error',
        message: 'write failed',
        code: 'EWRITE',
        retryable: true,
        cause: { name: 'TypeError', message: 'connect ECONNREFUSED 127.0.0.1:8086?token=[redacted]' },
      },
    });
    expect(err.stack).toMatch(/^Error: flush to https:\/\/u:\[redacted\]@influx\/write failed\n\s+at /);
    const inner = (err.cause as { cause: { stack: string } }).cause;
    expect(inner.stack).toMatch(
      /^TypeError: connect ECONNREFUSED 127\.0\.0\.1:8086\?token=\[redacted\]\n\s+at /,
    );
    expect(JSON.stringify(parsed()[0])).not.toMatch(/t0p|pw9/);
    expect(parsed()[0]?.nested).toMatchObject({ list: [{ name: 'RangeError', message: 'deep' }] });
    // The record keeps the Error itself.
    expect(records[0]?.err).toBe(top);
  });

  it('a cause that is not an Error, an AggregateError, and a cause cycle', () => {
    const { log, parsed } = capture();
    const a = new Error('a', { cause: { status: 503, url: '/x?key=k9' } });
    const agg = new AggregateError([new Error('one'), 'two'], 'both failed');
    const loop = new Error('loop');
    (loop as { cause?: unknown }).cause = loop;
    log.warn('odd errors', { a, agg, loop });
    const line = parsed()[0] ?? {};
    expect(line.a).toMatchObject({ message: 'a', cause: { status: 503, url: '/x?key=[redacted]' } });
    expect(line.agg).toMatchObject({ name: 'AggregateError', errors: [{ message: 'one' }, 'two'] });
    expect(line.loop).toMatchObject({ message: 'loop', cause: '[Circular]' });
  });

  it('a circular field is written, not thrown', () => {
    const { log, parsed } = capture();
    const cyclic: Record<string, unknown> = { id: 'dev-1' };
    cyclic.self = cyclic;
    cyclic.list = [cyclic];
    expect(() => log.info('cyclic', { cyclic })).not.toThrow();
    expect(parsed()[0]?.cyclic).toEqual({ id: 'dev-1', self: '[Circular]', list: ['[Circular]'] });
  });

  it('a field that cannot be serialised is replaced, and a sink that throws does not throw: stderr says so', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { log, parsed } = capture();
    const bad = {
      toJSON() {
        throw new Error('no JSON for you');
      },
    };
    expect(() => log.info('bad field', { bad: [bad], ok: 1 })).not.toThrow();
    expect(parsed()[0]?.msg).toBe('bad field');
    expect(parsed()[0]?.bad).toMatch(/unable to serialize/);
    const sinkFails = createLogger({
      write: () => {
        throw new Error('disk full');
      },
    });
    expect(() => sinkFails.error('lost ?token=abc')).not.toThrow();
    const said = stderr.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
    expect(said).toEqual([
      expect.objectContaining({ level: 'error', msg: 'lost ?token=[redacted]', logError: 'disk full' }),
    ]);
    // Both go on logging afterwards.
    log.info('fine');
    expect(parsed().map((l) => l.msg)).toEqual(['bad field', 'fine']);
  });

  it('memoryLogger keeps records at every level with child bindings', () => {
    const log = memoryLogger();
    log.child({ a: 1 }).child({ b: 2 }).debug('d', { c: 3 });
    expect(log.records).toEqual([expect.objectContaining({ level: 'debug', msg: 'd', a: 1, b: 2, c: 3 })]);
  });
});
