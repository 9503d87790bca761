/**
 * The `traps:` section of the monitor config (collector/sources/traps). Absent: no trap receiver.
 *
 *   traps:
 *     host: 0.0.0.0      # where to listen (the devices send here)
 *     port: 10162        # unprivileged by default; 162 needs CAP_NET_BIND_SERVICE or a redirect (README: Traps)
 *
 * A trap is accepted from a device of the inventory only: by its source address, with that device's
 * v2c community or SNMPv3 user. Everything else is counted and dropped.
 */
import { z } from 'zod';

export interface TrapsConfig {
  readonly host: string;
  readonly port: number;
}

const PORT = { message: 'expected a UDP port 0..65535 (0: any free port; below 1024 needs privileges)' };

export const trapsSchema = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  // Coerced: `${NETMON_TRAP_PORT:-10162}` from the environment is a string.
  port: z.coerce.number(PORT).int(PORT).min(0, PORT).max(65535, PORT).default(10162),
});
