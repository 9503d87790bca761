/**
 * The small interfaces the composition root needs from the I/O modules. The real implementations live in
 * sources/snmp (SnmpPoller) and sinks (SampleWriter); tests may pass their own.
 */
import type { Device, DeviceReading, Sample } from './core/types.ts';

/** Reads one device. Throws SnmpError (with a ProbeFailureReason in `code`) when the device fails. */
export interface DevicePoller {
  poll(device: Device): Promise<DeviceReading>;
  close(): void;
}

export interface WriterStats {
  readonly written: number;
  /** Samples not yet written: queued in memory, in flight, or on disk. */
  readonly buffered: number;
  /** Of those, the ones waiting on disk because the database was away (health is degraded while > 0). */
  readonly onDisk?: number | undefined;
  readonly dropped: number;
  readonly invalid: number;
  readonly failures: number;
  readonly lastError?: string | undefined;
}

/** Accepts samples without blocking and gets them to the database, buffering while it is away. */
export interface SampleWriterLike {
  push(samples: readonly Sample[]): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): WriterStats;
  /** Its memory is over its bound: polls should wait (scheduler/admission.ts). Absent: never. */
  congested?(): boolean;
}
