import type { ServiceMetrics } from '@canopy/service-runtime';

/** The reader's Prometheus metrics (canopy_ad_reader_*). */
export class ReaderMetrics {
  readonly objectsRead;
  readonly eventsProduced;
  readonly deltaPullDuration;
  readonly fullReadObjectsPerSecond;
  readonly cookieAge;
  readonly leaseHolder;
  readonly notifications;
  readonly ldapReconnects;
  readonly oversized;
  readonly cycleErrors;

  constructor(m: ServiceMetrics) {
    this.objectsRead = m.counter('objects_read_total', 'Objects read from AD (complete reads), by origin', ['origin']);
    this.eventsProduced = m.counter('events_produced_total', 'Events committed to canopy.ad.objects.<forest>, by kind', ['kind']);
    this.deltaPullDuration = m.histogram('delta_pull_duration_seconds', 'One DirSync delta pull of a naming context, reads and commit included', ['naming_context']);
    this.fullReadObjectsPerSecond = m.gauge('full_read_objects_per_second', 'Throughput of the last full read', ['naming_context']);
    this.cookieAge = m.gauge('cookie_age_seconds', 'Seconds since the DirSync cookie of a naming context was last committed', ['naming_context']);
    this.leaseHolder = m.gauge('lease_holder', '1 while this replica is the active reader of its forest');
    this.notifications = m.counter('notifications_total', 'Change notifications received from the DC');
    this.ldapReconnects = m.counter('ldap_reconnects_total', 'LDAP connections re-established after a failure');
    this.oversized = m.counter('oversized_objects_total', 'Objects refused because their event exceeds the Kafka message limit');
    this.cycleErrors = m.counter('cycle_errors_total', 'Read cycles that failed, by error type', ['type']);
  }
}
