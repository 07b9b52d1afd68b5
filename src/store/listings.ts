// Directory contents, from queries that read only label and timestamp columns. One query over the
// look-back window feeds every listing inside it, down to each day's hours; a day older than the
// window is listed by a query over that day alone, unless all of it is already final in the cache.
import { logQuery } from '../bigquery/log-queries.js';
import type { LogWarehouse } from '../bigquery/log-warehouse.js';
import {
  isDns1123Label,
  isDns1123Subdomain,
  isWorkloadDirectory,
  WORKLOAD_MARK,
  type ContainerRef,
} from '../model/log-path.js';
import { Memo } from './memo.js';
import type { LogSource } from '../bigquery/query-builder.js';
import type { DayName, TimeRange, TimeZoneModel } from '../model/time-model.js';

/** What the cache knows for good: a day's hours with entries, once all of the day is final there. */
export interface FinalDays {
  /** The hours with entries, sorted, when all of the day is final in the cache; otherwise undefined. */
  finalHours(ref: ContainerRef, day: DayName): Promise<number[] | undefined>;
}

/** namespace → pod → container → day → hours with entries. */
type Tree = Map<string, Map<string, Map<string, Map<DayName, number[]>>>>;

/** One container's entry in one day's listing. */
interface ContainerDay {
  namespace: string;
  pod: string;
  container: string;
  hours: number[];
  /** When its latest entry was logged, to the millisecond. */
  latestMs: number;
  /** The name of the pod's top-level controller, if the listing found one. */
  workload?: string;
}

/** A workload directory's pods on a day, by the latest listing of the window, and when that ran. */
export interface WorkloadPods {
  pods: string[];
  listedAtMs: number;
}

function hoursOfMask(mask: number): number[] {
  const hours: number[] = [];
  for (let hour = 0; hour < 24; hour++) if (mask & (1 << hour)) hours.push(hour);
  return hours;
}

export interface ListingOptions {
  lookbackMs: number;
  /** How long a listing that can still change is reused. */
  listingTtlMs: number;
  sealAfterMs: number;
  now: () => number;
  zone: TimeZoneModel;
}

function sorted(names: Iterable<string>): string[] {
  return [...names].sort();
}

export class Listings {
  private readonly trees: Memo<Tree>;
  /** The newest listing of the window and when it ran, kept while a new one is made. */
  private latest:
    | {
        tree: Tree;
        listedAtMs: number;
        newest: Map<string, number | undefined>;
        /** `namespace/pod/container/day` → when its latest entry was logged. */
        latestEntries: Map<string, number>;
        /** `namespace/@workload/container/day` → its pods. */
        workloadPods: Map<string, string[]>;
      }
    | undefined;
  private readonly hourLists: Memo<number[]>;
  /** Listings of days that can no longer change. */
  private readonly finalDays = new Map<DayName, ContainerDay[]>();

  constructor(
    private readonly warehouse: LogWarehouse,
    private readonly source: LogSource,
    private readonly cached: FinalDays,
    private readonly options: ListingOptions,
  ) {
    this.trees = new Memo(options.now);
    this.hourLists = new Memo(options.now);
  }

  async namespaces(): Promise<string[]> {
    return sorted((await this.tree()).keys());
  }

  async pods(namespace: string): Promise<string[]> {
    return sorted((await this.tree()).get(namespace)?.keys() ?? []);
  }

  async containers(namespace: string, pod: string): Promise<string[]> {
    return sorted((await this.tree()).get(namespace)?.get(pod)?.keys() ?? []);
  }

  async days(ref: ContainerRef): Promise<DayName[]> {
    return [...((await this.tree()).get(ref.namespace)?.get(ref.pod)?.get(ref.container)?.keys() ?? [])];
  }

  /**
   * Whether a directory exists, by the listing of the window: a namespace, pod or container with
   * entries in it, or a day of a container. Undefined for a day older than the window, which only a
   * query can tell.
   */
  async exists(names: {
    namespace: string;
    pod?: string;
    container?: string;
    day?: DayName;
  }): Promise<boolean | undefined> {
    if (names.day !== undefined && !this.inWindow(names.day)) return undefined;
    const pods = (await this.tree()).get(names.namespace);
    if (names.pod === undefined) return pods !== undefined;
    const containers = pods?.get(names.pod);
    if (names.container === undefined) return containers !== undefined;
    const days = containers?.get(names.container);
    if (names.day === undefined) return days !== undefined;
    return days?.has(names.day) ?? false;
  }

  /**
   * When a directory last got an entry, as far as the latest listing of the window knows: the time
   * of its latest entry, but never later than the listing. Undefined when no listing has run or it
   * does not hold the directory. Sends no query.
   */
  latestEntryMs(names: { namespace: string; pod?: string; container?: string; day?: DayName }): number | undefined {
    const known = this.latest;
    if (!known) return undefined;
    const key = [names.namespace, names.pod, names.container, names.day].filter((part) => part !== undefined).join('/');
    if (known.newest.has(key)) return known.newest.get(key);
    let newest: number | undefined;
    const consider = (pod: string, container: string, day: DayName) => {
      const latestMs = known.latestEntries.get(`${names.namespace}/${pod}/${container}/${day}`);
      if (latestMs === undefined) return;
      const knownMs = Math.min(latestMs, known.listedAtMs);
      newest = Math.max(newest ?? knownMs, knownMs);
    };
    const pods = known.tree.get(names.namespace);
    for (const [pod, containers] of pods ?? []) {
      if (names.pod !== undefined && pod !== names.pod) continue;
      for (const [container, days] of containers) {
        if (names.container !== undefined && container !== names.container) continue;
        if (names.day !== undefined) consider(pod, container, names.day);
        else for (const day of days.keys()) consider(pod, container, day);
      }
    }
    known.newest.set(key, newest);
    return newest;
  }

  /** The pods of a workload directory's container on a day inside the window, by its latest listing. */
  async workloadPods(ref: ContainerRef, day: DayName): Promise<WorkloadPods> {
    await this.tree();
    const known = this.latest;
    const pods = known?.workloadPods.get(`${ref.namespace}/${ref.pod}/${ref.container}/${day}`) ?? [];
    return { pods: sorted(pods), listedAtMs: known?.listedAtMs ?? -Infinity };
  }

  /** Lists the window again if its listing is older than `ms`: what can still change is queried anew. */
  refreshIfOlderThan(ms: number): void {
    this.trees.forgetIfOlderThan('window', ms);
  }

  private inWindow(day: DayName): boolean {
    return this.options.zone.dayRange(day).startMs >= this.window(this.options.now()).startMs;
  }

  /** A day's hours: from the cache when all of it is final there, else from the window's listing, else a query. */
  async hoursOf(ref: ContainerRef, day: DayName): Promise<number[]> {
    const cached = await this.cached.finalHours(ref, day);
    if (cached) return cached;
    // Workload directories are known from the window's listing only.
    if (isWorkloadDirectory(ref.pod) && !this.inWindow(day)) return [];
    if (this.inWindow(day)) {
      return (await this.tree()).get(ref.namespace)?.get(ref.pod)?.get(ref.container)?.get(day) ?? [];
    }
    const key = `${ref.namespace}/${ref.pod}/${ref.container}/${day}`;
    return this.hourLists.get(key, async () => {
      const startedMs = this.options.now();
      const found: number[] = [];
      const { zone } = this.options;
      const query = logQuery(this.source, { kind: 'hours', ref, day, range: zone.dayRange(day), timeZone: zone.zone });
      await this.warehouse.runQuery(query, {
        page: async (rows) => {
          for (const [hour] of rows) if (hour !== null && hour !== undefined) found.push(Number(hour));
        },
      });
      const final = this.options.zone.dayRange(day).endMs + this.options.sealAfterMs <= startedMs;
      return { value: found.sort((a, b) => a - b), validForMs: final ? Infinity : this.options.listingTtlMs };
    });
  }

  /** What listings cover: whole local days from `--lookback` ago through today. */
  private window(nowMs: number): TimeRange {
    const { zone } = this.options;
    return {
      startMs: zone.dayRange(zone.dayNameOf(nowMs - this.options.lookbackMs)).startMs,
      endMs: zone.dayRange(zone.dayNameOf(nowMs)).endMs,
    };
  }

  /**
   * The window's listing. Days that are final are queried once and kept; later refreshes query only
   * the days that can still change (usually today), so a busy `ls` bills one day, not the window.
   */
  private tree(): Promise<Tree> {
    return this.trees.get('window', async () => {
      const startedMs = this.options.now();
      const window = this.window(startedMs);
      const days = this.options.zone.daysIn(window);
      const firstOpen = days.find((day) => !this.finalDays.has(day));
      const fresh = new Map<DayName, ContainerDay[]>();
      if (firstOpen !== undefined) {
        const range = { startMs: this.options.zone.dayRange(firstOpen).startMs, endMs: window.endMs };
        const query = logQuery(this.source, { kind: 'listing', window: range, timeZone: this.options.zone.zone });
        await this.warehouse.runQuery(query, {
          page: async (rows) => {
            for (const [namespace, pod, container, day, mask, workload, latest] of rows) {
              if (!namespace || !pod || !container || !day || !mask || !latest) continue;
              if (!isDns1123Label(namespace) || !isDns1123Subdomain(pod) || !isDns1123Label(container)) continue;
              const listed = fresh.get(day) ?? [];
              fresh.set(day, listed);
              listed.push({
                namespace,
                pod,
                container,
                hours: hoursOfMask(Number(mask)),
                // TIMESTAMPs arrive as epoch microseconds.
                latestMs: Number(BigInt(latest) / 1000n),
                ...(workload && isDns1123Subdomain(workload) && { workload }),
              });
            }
          },
        });
        for (const day of this.options.zone.daysIn(range)) {
          if (this.options.zone.dayRange(day).endMs + this.options.sealAfterMs <= startedMs) {
            this.finalDays.set(day, fresh.get(day) ?? []);
          }
        }
      }
      const tree: Tree = new Map();
      const workloadPods = new Map<string, string[]>();
      const latestEntries = new Map<string, number>();
      const add = ({ namespace, pod, container, hours, latestMs }: ContainerDay, day: DayName) => {
        const pods = tree.get(namespace) ?? new Map<string, Map<string, Map<DayName, number[]>>>();
        tree.set(namespace, pods);
        const containers = pods.get(pod) ?? new Map<string, Map<DayName, number[]>>();
        pods.set(pod, containers);
        const containerDays = containers.get(container) ?? new Map<DayName, number[]>();
        containers.set(container, containerDays);
        containerDays.set(
          day,
          [...new Set([...(containerDays.get(day) ?? []), ...hours])].sort((a, b) => a - b),
        );
        const key = `${namespace}/${pod}/${container}/${day}`;
        latestEntries.set(key, Math.max(latestEntries.get(key) ?? latestMs, latestMs));
      };
      for (const day of days) {
        for (const entry of this.finalDays.get(day) ?? fresh.get(day) ?? []) {
          add(entry, day);
          if (entry.workload === undefined) continue;
          // A workload directory: the pods of every controller of that name, their hours together.
          const workload = WORKLOAD_MARK + entry.workload;
          add({ ...entry, pod: workload }, day);
          const key = `${entry.namespace}/${workload}/${entry.container}/${day}`;
          workloadPods.set(key, [...(workloadPods.get(key) ?? []), entry.pod]);
        }
      }
      for (const day of this.finalDays.keys()) if (!days.includes(day)) this.finalDays.delete(day);
      this.latest = { tree, listedAtMs: startedMs, newest: new Map(), latestEntries, workloadPods };
      return { value: tree, validForMs: this.options.listingTtlMs };
    });
  }
}
