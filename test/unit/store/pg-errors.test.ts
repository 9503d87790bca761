/**
 * Which PostgreSQL failures the store's queue retries (the server is away or busy) and which it does not
 * (a bug, a constraint, bad credentials): storeErrorOf, table-tested.
 */
import { describe, expect, it } from 'vitest';
import { storeErrorOf } from '../../../collector/store/pg-queue.ts';
import { StoreDeposedError, StoreError } from '../../../collector/store/store.ts';

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('storeErrorOf', () => {
  it.each([
    ['connection refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'), true],
    ['connection reset', withCode('read ECONNRESET', 'ECONNRESET'), true],
    ['connection lost', new Error('Connection terminated unexpectedly'), true],
    ['connect timeout', new Error('timeout exceeded when trying to connect'), true],
    ['client broken', new Error('Client has encountered a connection error and is not queryable'), true],
    ['admin shutdown', withCode('terminating connection due to administrator command', '57P01'), true],
    ['starting up', withCode('the database system is starting up', '57P03'), true],
    ['connection exception', withCode('connection failure', '08006'), true],
    ['too many connections', withCode('sorry, too many clients already', '53300'), true],
    ['serialization failure', withCode('could not serialize access', '40001'), true],
    ['unique violation', withCode('duplicate key value violates unique constraint', '23505'), false],
    ['syntax error', withCode('syntax error at or near "SELEC"', '42601'), false],
    ['bad password', withCode('password authentication failed for user "netmon"', '28P01'), false],
    ['no database', withCode('database "netmon" does not exist', '3D000'), false],
    ['not an Error', 'something odd', false],
  ])('%s: retryable %s', (_name, err, retryable) => {
    const e = storeErrorOf(err, 'open incident i1');
    expect(e).toBeInstanceOf(StoreError);
    expect(e.retryable).toBe(retryable);
    expect(e.code).toBe(retryable ? 'store_unavailable' : 'store_failed');
    expect(e.message).toContain('open incident i1');
    expect(e.cause).toBe(err);
  });

  it('keeps a StoreError as it is: a deposed store is never retried', () => {
    const deposed = new StoreDeposedError(1, 2, 'resolve i1');
    expect(storeErrorOf(deposed, 'x')).toBe(deposed);
    expect(deposed.retryable).toBe(false);
    expect(deposed.message).toBe(
      "resolve i1 refused: this store's term 1 was deposed by term 2 (a newer alerting leader)",
    );
  });
});
