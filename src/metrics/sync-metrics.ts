/**
 * Sync health as Prometheus gauges, read from storage when scraped: the schedule and the
 * mirror's state are shared by every instance, so each instance reports the same
 * deployment-wide values (aggregate with max, not sum).
 */
import { Gauge } from 'prom-client';
import type { Metrics } from './metrics.js';

export interface SyncSnapshot {
  jobsDue: number;
  jobsRunning: number;
  /** How long the most overdue job has waited past its time, in seconds. */
  oldestDueSeconds: number;
  calendarsByStatus: Record<string, number>;
  calendarsFailing: number;
  /** Age of the oldest last successful pass among synced calendars, in seconds. */
  oldestSuccessAgeSeconds: number;
}

export function registerSyncMetrics(metrics: Metrics, read: () => Promise<SyncSnapshot>): void {
  let inFlight: Promise<SyncSnapshot> | undefined;
  // prom-client collects the gauges of one scrape in parallel: they share one read.
  const snapshot = (): Promise<SyncSnapshot> =>
    (inFlight ??= read().finally(() => {
      inFlight = undefined;
    }));
  const make = (name: string, help: string, set: (g: Gauge, s: SyncSnapshot) => void, labelNames: string[] = []): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [metrics.registry],
      async collect() {
        set(this, await snapshot());
      },
    });
  };
  make('almanac_sync_jobs_due', 'Account sync jobs past their time that no worker is running (deployment-wide)', (g, s) => g.set(s.jobsDue));
  make('almanac_sync_jobs_running', 'Account sync jobs a worker holds a lease on (deployment-wide)', (g, s) => g.set(s.jobsRunning));
  make('almanac_sync_oldest_due_seconds', 'How long the most overdue sync job has waited past its time', (g, s) => g.set(s.oldestDueSeconds));
  make('almanac_sync_lag_seconds', 'Age of the stalest mirrored calendar: time since its last successful sync pass', (g, s) => g.set(s.oldestSuccessAgeSeconds));
  make('almanac_sync_calendars_failing', 'Calendars whose last sync pass failed', (g, s) => g.set(s.calendarsFailing));
  make(
    'almanac_sync_calendars',
    'Calendars known to the sync engine, by status (pending: not mirrored yet; ready: mirrored)',
    (g, s) => {
      g.reset();
      for (const [status, n] of Object.entries(s.calendarsByStatus)) g.set({ status }, n);
    },
    ['status'],
  );
}
