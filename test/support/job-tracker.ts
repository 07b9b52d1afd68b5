// Watches, from the local BigQuery server's side, when each query job is being worked on: from the
// start of its first request (jobs.insert) to the end of its last one (its last page, or the job
// status read for billing). A mount's query slot is held across all of these, so the most of its
// jobs whose spans overlap is a lower bound on how many queries it ran at once — seen from outside.
import type { Emulator } from '../../src/emulator/server.js';

export interface JobSpan {
  startMs: number;
  endMs: number;
}

export interface JobTracker {
  spans: Map<string, JobSpan>;
  /** The largest number of the given jobs whose spans overlap at one instant. */
  peakOverlap(jobIds: Iterable<string>): number;
  stop(): void;
}

export function trackJobs(emulator: Emulator): JobTracker {
  const faults = emulator.faults;
  const original = faults.serve.bind(faults);
  const spans = new Map<string, JobSpan>();
  const record = (jobId: string | undefined, startMs: number, endMs: number) => {
    if (jobId === undefined) return;
    const span = spans.get(jobId);
    if (span) {
      span.startMs = Math.min(span.startMs, startMs);
      span.endMs = Math.max(span.endMs, endMs);
    } else spans.set(jobId, { startMs, endMs });
  };
  faults.serve = async (request, res, handle) => {
    const startMs = performance.now();
    const out = await original(request, res, handle);
    // jobs.insert names its job in the answer; jobs.get and getQueryResults in the path.
    const inserted = (out?.body as { jobReference?: { jobId?: string } } | undefined)?.jobReference?.jobId;
    record(request.params.j ?? inserted, startMs, performance.now());
    return out;
  };
  return {
    spans,
    peakOverlap(jobIds) {
      const events: [number, number][] = [];
      for (const id of jobIds) {
        const span = spans.get(id);
        if (!span) continue;
        events.push([span.startMs, 1], [span.endMs, -1]);
      }
      // Ends before starts at the same instant: touching spans do not overlap.
      events.sort(([a, da], [b, db]) => a - b || da - db);
      let running = 0;
      let peak = 0;
      for (const [, delta] of events) {
        running += delta;
        peak = Math.max(peak, running);
      }
      return peak;
    },
    stop() {
      faults.serve = original;
    },
  };
}
