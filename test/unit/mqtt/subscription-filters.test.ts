/**
 * What each MQTT client of the monitor subscribes to (collector/sources/mqtt/mqtt-source.ts): one process
 * reads telemetry and status; a cluster's collector member reads telemetry alone through the shared
 * subscription (each message to one member of the group); the alerting leader reads status alone.
 */
import { describe, expect, it } from 'vitest';
import { subscriptionFilters } from '../../../collector/sources/mqtt/mqtt-source.ts';

describe('subscriptionFilters', () => {
  it.each([
    ['all', undefined, ['netmon/v1/+/+/telemetry', 'netmon/v1/+/+/status']],
    ['telemetry', 'netmon', ['$share/netmon/netmon/v1/+/+/telemetry']],
    ['telemetry', undefined, ['netmon/v1/+/+/telemetry']],
    ['status', undefined, ['netmon/v1/+/+/status']],
    // The status topics are never shared: the leader must see every device's Will.
    ['status', 'netmon', ['netmon/v1/+/+/status']],
    ['all', 'g1', ['$share/g1/netmon/v1/+/+/telemetry', 'netmon/v1/+/+/status']],
  ] as const)('%s, share group %s', (topics, group, want) => {
    expect(subscriptionFilters(topics, group)).toEqual(want);
  });
});
