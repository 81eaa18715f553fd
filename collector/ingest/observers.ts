// The observer fan-out: presence, alerts and the HTTP API hear of every message here, in the order
// they were added. One observer throwing is counted and logged; the others and ingest go on.
import type { Logger } from '../../shared/log.ts';
import type { CollectorObserver } from '../observer.ts';

export class ObserverFanOut {
  private readonly observers: CollectorObserver[] = [];
  /** Times an observer threw. */
  errors = 0;

  constructor(private readonly log: Logger) {}

  add(o: CollectorObserver): void {
    this.observers.push(o);
  }

  notify(fn: (o: CollectorObserver) => void): void {
    for (const o of this.observers) {
      try {
        fn(o);
      } catch (err) {
        this.errors++;
        this.log.error({ err }, 'a collector observer threw');
      }
    }
  }
}
