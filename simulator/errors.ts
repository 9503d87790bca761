import { NetmonError } from '../collector/core/errors.ts';

/** A datagram that is not a well-formed SNMP message: the agent drops it, as a real agent would. */
export class BerError extends NetmonError {
  constructor(message: string) {
    super('ber', message, { retryable: false });
  }
}

/** A control request (API or HTTP) that names an unknown site/device or has bad arguments. */
export class SimulatorControlError extends NetmonError {
  /** HTTP status the control server answers with. */
  readonly status: 400 | 404 | 409;
  constructor(status: 400 | 404 | 409, message: string) {
    super(status === 404 ? 'not_found' : status === 409 ? 'conflict' : 'bad_request', message, {
      retryable: false,
    });
    this.status = status;
  }
}

/** The simulator could not start (a socket would not bind, the inventory is unusable). */
export class SimulatorStartError extends NetmonError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('simulator_start', message, { retryable: false, cause: opts.cause });
  }
}
