import type { Attributes, ObservableResult } from "@opentelemetry/api";
import { meter } from "./metrics.js";
import { recipientDomain, replyStatus } from "./reply-status.js";

/** One observed value and its labels. */
export interface Reading {
  value: number;
  attributes: Attributes;
}

/** Reads the current values from where the truth is (PostgreSQL, Redis, RabbitMQ). */
export type Source = () => Promise<Reading[]>;

export interface ObserveOptions {
  /** A scrape must not hang on a slow dependency: past this, the metric is left out of that scrape. */
  timeoutMs?: number;
  onError?: (name: string, err: Error) => void;
}

/**
 * A gauge whose value is read at scrape time — nothing is cached in the process, so
 * every copy of a service reports the same truth (dashboards take `max`).
 */
export function observeGauge(name: string, description: string, source: Source, opts: ObserveOptions = {}): void {
  meter().createObservableGauge(name, { description }).addCallback(callback(name, source, opts));
}

/** A counter whose cumulative total is read at scrape time. */
export function observeCounter(name: string, description: string, source: Source, opts: ObserveOptions = {}): void {
  meter().createObservableCounter(name, { description }).addCallback(callback(name, source, opts));
}

function callback(name: string, source: Source, opts: ObserveOptions) {
  const timeoutMs = opts.timeoutMs ?? 2000;
  return async (result: ObservableResult) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const readings = await Promise.race([
        source(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      for (const r of readings) result.observe(r.value, r.attributes);
    } catch (err) {
      opts.onError?.(name, err as Error);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** A row of the delivery event log (`delivery_events` joined to its delivery). */
export interface FailureEvent {
  event: string;
  detail: string | null;
  route: string | null;
  recipient: string;
}

/**
 * Running totals of failed delivery steps — deferrals, bounces, expiries — by outcome,
 * route, recipient domain and reply status. Pure: fed the event log rows that are new
 * since the last read, it answers the cumulative readings of a counter.
 */
export class FailureTally {
  private readonly totals = new Map<string, Reading>();

  constructor() {
    // Every outcome of each route at 0 from the start (domain and status unknown yet), so
    // that a failure panel of a healthy system shows 0, not "No data".
    for (const outcome of ["deferred", "bounced", "expired"]) {
      for (const route of ["local", "remote"]) {
        const attributes = { outcome, route };
        this.totals.set(JSON.stringify(attributes), { value: 0, attributes });
      }
    }
  }

  add(events: Iterable<FailureEvent>): void {
    for (const e of events) {
      if (e.event !== "deferred" && e.event !== "bounced" && e.event !== "expired") continue;
      const { status, statusClass } = replyStatus(e.detail);
      const attributes = {
        outcome: e.event,
        route: e.route ?? "none",
        domain: recipientDomain(e.recipient),
        status,
        status_class: statusClass,
      };
      const key = JSON.stringify(attributes);
      const reading = this.totals.get(key);
      if (reading) reading.value += 1;
      else this.totals.set(key, { value: 1, attributes });
    }
  }

  readings(): Reading[] {
    return [...this.totals.values()].map((r) => ({ value: r.value, attributes: { ...r.attributes } }));
  }
}
