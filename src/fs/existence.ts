// Which names exist, answered without any query that reads log contents. A namespace, pod or
// container directory always exists, as in an automounter, so that pods whose entries all lie before
// the listing window stay reachable; whether a day or an hour exists is known from the disk cache
// when it holds the data, else from the listing of the window (labels and timestamps only), else,
// for a day older than the window, from that day's hours (labels and timestamps of one day). So a
// path through a mistyped name is ENOENT at its day at no cost once the window is listed. A workload
// directory (`@api`) exists only as far as the window's listing knows its pods.
import { isWorkloadDirectory, type ContainerRef } from '../model/log-path.js';
import type { DayName, TimeZoneModel } from '../model/time-model.js';
import type { HourStore } from '../store/hour-store.js';
import type { Listings } from '../store/listings.js';

export interface ExistenceOptions {
  now: () => number;
  zone: TimeZoneModel;
  /** The hour filling now may get its first entry after the listing: it is listed again this often. */
  refreshMs: number;
}

export interface DirectoryNames {
  namespace: string;
  pod?: string;
  container?: string;
  day?: DayName;
}

export class Existence {
  constructor(
    private readonly listings: Listings,
    private readonly hours: HourStore,
    private readonly options: ExistenceOptions,
  ) {}

  async directory(names: DirectoryNames): Promise<boolean> {
    // A workload directory exists only while the window's listing has its pods.
    if (names.pod !== undefined && isWorkloadDirectory(names.pod)) {
      if (
        names.day !== undefined &&
        this.hours.holdsUnder([names.namespace, names.pod, names.container ?? '', names.day])
      )
        return true;
      return (await this.listed(names)) ?? false;
    }
    if (names.day === undefined) return true;
    const parts = [names.namespace, names.pod, names.container, names.day].filter((part) => part !== undefined);
    if (this.hours.holdsUnder(parts)) return true;
    const listed = await this.listed(names);
    if (listed !== undefined) return listed;
    const { namespace, pod = '', container = '', day = '' } = names;
    return (await this.listings.hoursOf({ namespace, pod, container }, day)).length > 0;
  }

  /**
   * Whether the window's listing has the directory. The day filling now may get its first entry
   * after the listing (at midnight, `current.log` points into a day no listing has seen yet), so
   * for that day a "no" is listed again, as the hour filling now is.
   */
  private async listed(names: DirectoryNames): Promise<boolean | undefined> {
    const listed = await this.listings.exists(names);
    if (listed !== false || names.day === undefined) return listed;
    if (this.options.zone.localHour(this.options.now()).day !== names.day) return listed;
    this.listings.refreshIfOlderThan(this.options.refreshMs);
    return this.listings.exists(names);
  }

  /** Whether the hour may have entries: a listed hour, or the hour filling now once listed again. */
  async hour(ref: ContainerRef, day: DayName, hour: number): Promise<boolean> {
    if ((await this.listings.hoursOf(ref, day)).includes(hour)) return true;
    const now = this.options.zone.localHour(this.options.now());
    if (now.day !== day || now.hour !== hour) return false;
    this.listings.refreshIfOlderThan(this.options.refreshMs);
    return (await this.listings.hoursOf(ref, day)).includes(hour);
  }
}
