import { inspect } from 'node:util';

/**
 * A credential (community, SNMPv3 key, token, password). It can only be read through reveal(), so it
 * never lands in a log line, an error message, JSON output or util.inspect by accident.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return '[secret]';
  }
}
