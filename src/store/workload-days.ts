// Workload directories (`<namespace>/@<workload>/<container>/…`): every pod of one workload in one
// hour file, merged in time order, each line prefixed with its pod's name (with `--format json`, a
// "pod" field). A workload-day is read from the same kept sweeps as its pods' container-days: each
// pod's rows by row index, merged here. So it costs the namespace-day's sweep at most, and nothing
// once a pod of that namespace-day was read. Which pods belong to it comes from the window's
// listing (the pod's top-level controller label); a pod the sweep holds but the listing does not
// know yet (a new pod of a rollout) has the window listed again first.
import { QueryFailure } from '../bigquery/failures.js';
import type { RawRow } from '../bigquery/log-warehouse.js';
import { isWorkloadDirectory, type ContainerRef } from '../model/log-path.js';
import type { DayName } from '../model/time-model.js';
import { compareEntryKeys } from './entry-order.js';
import { SWEEP_TOO_BIG } from './hour-store-options.js';
import type { WorkloadPods } from './listings.js';
import { MergeHeap } from './merge-heap.js';
import { HeldRows, PodHourRows, ReadQueue, type RowSpan } from './pod-hour-rows.js';
import { SpilledPodRows } from './spilled-pod-rows.js';
import type { ScratchFile } from './temporary-files.js';
import { entryColumnsOf } from './sweep-index.js';
import {
  ofContainer,
  SweepUnreadable,
  type ContainerDayTarget,
  type KeptSweep,
  type SweepNeed,
  type SweepRead,
  type Sweeps,
} from './sweeps.js';

/** What the listings tell about pods: which belong to a workload, and which are known at all. */
export interface WorkloadMembership {
  workloadPods(ref: ContainerRef, day: DayName): Promise<WorkloadPods>;
  exists(names: { namespace: string; pod: string; container: string; day: DayName }): Promise<boolean | undefined>;
  refreshIfOlderThan(ms: number): void;
}

/** Merged rows are handed to the writer this many at a time, so the merge never holds the thread long. */
const DELIVERY_ROWS = 2_000;
/**
 * Rows of a page, one per pod: the merge holds two pages of each pod (the one it merges and the one
 * read meanwhile). A page is never smaller than MIN_PAGE_ROWS, since each is a read of the kept
 * result, nor larger than MAX_PAGE_ROWS.
 */
const MERGE_ROWS = 8_000;
const MIN_PAGE_ROWS = 500;
const MAX_PAGE_ROWS = 4_000;

function pageRowsFor(pods: number): number {
  return Math.min(MAX_PAGE_ROWS, Math.max(MIN_PAGE_ROWS, Math.ceil(MERGE_ROWS / Math.max(1, pods))));
}

/**
 * A workload with more pods than this is merged from scratch files (SpilledPodRows): pages held in
 * memory would no longer shrink with the number of pods (MIN_PAGE_ROWS), and two of them per pod of a
 * 150-pod DaemonSet were more than the daemon's heap.
 */
const MOST_PODS_IN_MEMORY = Math.floor(MERGE_ROWS / MIN_PAGE_ROWS);
/**
 * What the pods' scratch files are read in at once, over all pods: each pod's chunk is its share,
 * between MIN_CHUNK_BYTES and MAX_CHUNK_BYTES, so the merge's memory stays bounded up to thousands of pods.
 */
const SCRATCH_READ_BYTES = 4 * 2 ** 20;
const MIN_CHUNK_BYTES = 4 * 1024;
const MAX_CHUNK_BYTES = 32 * 1024;

function compareHeads(a: HeldRows, b: HeldRows): number {
  const keyA = a.key;
  const keyB = b.key;
  if (keyA === undefined || keyB === undefined) return (keyA === undefined ? 0 : 1) - (keyB === undefined ? 0 : 1);
  return compareEntryKeys(keyA, keyB) || (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0);
}

export class WorkloadDays {
  private membership: WorkloadMembership | undefined;

  /** `createScratch`: the disk cache's scratch files, for workloads with many pods. */
  constructor(private readonly createScratch?: (name: string) => Promise<ScratchFile>) {}

  /** The listings, created after the store, tell which pods a workload has. */
  useMembership(membership: WorkloadMembership): void {
    this.membership = membership;
  }

  /** Reads workload directories' days as `readContainerDay` does, and pods' days from the sweeps themselves. */
  over(sweeps: Sweeps): Pick<Sweeps, 'readContainerDay'> {
    return {
      readContainerDay: (target, needs, deliver) =>
        isWorkloadDirectory(target.ref.pod)
          ? this.readContainerDay(sweeps, target, needs, deliver)
          : sweeps.readContainerDay(target, needs, deliver),
    };
  }

  /**
   * Hands the workload's entries of the day to `deliver` as `Sweeps.readContainerDay` does for one
   * container (hour `first` first, then the rest in file order), merged across its pods by
   * (timestamp, insertId, stream, pod), each row a `PodRow` with its pod's name.
   */
  async readContainerDay(
    sweeps: Sweeps,
    target: ContainerDayTarget,
    needs: SweepNeed[],
    deliver: (rows: RawRow[]) => Promise<void>,
  ): Promise<SweepRead> {
    const { ref, day, first, wanted } = target;
    const kept: KeptSweep[] = [];
    for (const need of needs) kept.push(await sweeps.kept(ref, need).catch(tooBigForWorkloads));
    const pods = (await this.podsOf(ref, day, kept)).map((pod) => ({ ...ref, pod }));
    const hours = new Set<number>();
    for (const { index } of kept) {
      for (const pod of pods) for (const rows of index.hoursOf(pod, day)) if (wanted(rows.hour)) hours.add(rows.hour);
    }
    const order = [...hours].sort((a, b) => (a === first ? -1 : b === first ? 1 : a - b));
    try {
      for (const hour of order) await this.mergeHour(kept, pods, day, hour, deliver);
    } catch (error) {
      if (!(error instanceof QueryFailure)) throw error;
      for (const sweep of kept) sweep.discard();
      throw new SweepUnreadable(error);
    }
    return {
      bytesBilled: kept.reduce((sum, sweep) => sum + sweep.bytesBilled, 0),
      snapshotMs: Math.min(...kept.map((sweep) => sweep.startedAtMs)),
    };
  }

  /**
   * The workload's pods with entries of the container in the sweeps. A pod in a sweep that the
   * listing does not know yet, from a listing older than the sweep, has the window listed again.
   */
  private async podsOf(ref: ContainerRef, day: DayName, kept: KeptSweep[]): Promise<string[]> {
    const membership = this.membership;
    if (!membership) return [];
    const swept = new Set<string>();
    for (const { index } of kept) {
      for (const key of index.containers()) {
        const [namespace = '', pod = '', container = ''] = key.split('/');
        if (namespace !== ref.namespace || container !== ref.container) continue;
        if (index.hoursOf({ namespace, pod, container }, day).length > 0) swept.add(pod);
      }
    }
    let members = await membership.workloadPods(ref, day);
    const newestSweepMs = Math.max(...kept.map((sweep) => sweep.startedAtMs));
    if (members.listedAtMs < newestSweepMs) {
      for (const pod of swept) {
        const known = await membership.exists({ namespace: ref.namespace, pod, container: ref.container, day });
        if (known) continue;
        membership.refreshIfOlderThan(0);
        members = await membership.workloadPods(ref, day);
        break;
      }
    }
    return members.pods.filter((pod) => swept.has(pod));
  }

  /**
   * Reads every pod's rows of one hour from the sweeps, a page per pod at a time (or, for many pods,
   * each pod's whole hour into a scratch file first), and delivers them merged.
   */
  private async mergeHour(
    kept: KeptSweep[],
    pods: ContainerRef[],
    day: DayName,
    hour: number,
    deliver: (rows: RawRow[]) => Promise<void>,
  ): Promise<void> {
    const queue = new ReadQueue();
    const spansOf = (pod: ContainerRef) => {
      const spans: RowSpan[] = [];
      for (const { result, index } of kept) {
        for (const part of index.hoursOf(pod, day)) {
          if (part.hour === hour) spans.push({ result, start: part.start, count: part.count });
        }
      }
      return spans;
    };
    const entryOf = (pod: ContainerRef) => (row: RawRow) => entryColumnsOf(ofContainer(row, pod));
    // Only pods with entries in this hour take part (the listing names the day's pods).
    const members = pods.map((pod) => ({ pod, spans: spansOf(pod) })).filter(({ spans }) => spans.length > 0);
    if (members.length <= MOST_PODS_IN_MEMORY || !this.createScratch) {
      const pageRows = pageRowsFor(members.length);
      const all = members.map(({ pod, spans }) => new PodHourRows(pod.pod, spans, pageRows, queue, entryOf(pod)));
      await this.merge(all, deliver);
      return;
    }
    const chunkBytes = Math.min(
      MAX_CHUNK_BYTES,
      Math.max(MIN_CHUNK_BYTES, Math.floor(SCRATCH_READ_BYTES / members.length)),
    );
    const spilled: SpilledPodRows[] = [];
    try {
      for (const { pod, spans } of members) {
        spilled.push(await SpilledPodRows.spill(pod.pod, spans, queue, entryOf(pod), this.createScratch, chunkBytes));
      }
      await this.merge(spilled, deliver);
    } finally {
      // A scratch file that cannot be removed now is removed when the process stops.
      await Promise.allSettled(spilled.map((pod) => pod.remove()));
    }
  }

  /** Delivers the rows of all pods merged, each with its pod's name. */
  private async merge(all: HeldRows[], deliver: (rows: RawRow[]) => Promise<void>): Promise<void> {
    // Every pod's first read is waited for, also when one fails, so none is still opening its rows
    // once the caller cleans up.
    const started = await Promise.allSettled(all.map((pod) => pod.ensureRow()));
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    const heads = new MergeHeap<HeldRows>(compareHeads);
    all.forEach((pod, index) => {
      const outcome = started[index];
      if (outcome?.status === 'fulfilled' && outcome.value) heads.push(pod);
    });
    let batch: RawRow[] = [];
    while (heads.size > 0) {
      const head = heads.least;
      batch.push(Object.assign([...head.row], { pod: head.pod }));
      head.advance();
      if (await head.ensureRow()) heads.leastChanged();
      else heads.popLeast();
      if (batch.length === DELIVERY_ROWS) {
        await deliver(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await deliver(batch);
  }
}

/**
 * A namespace-day too big to sweep: a pod's day is then read alone, but a workload's would need a
 * query per pod, so it fails instead.
 */
function tooBigForWorkloads(error: unknown): never {
  if (error instanceof QueryFailure && SWEEP_TOO_BIG.has(error.reason)) {
    throw new QueryFailure(
      `${error.message} (a workload directory reads its namespace-day in one query)`,
      'workloadTooBig',
      "read the pods' own directories: each is read alone when its namespace-day is too big",
    );
  }
  throw error;
}
