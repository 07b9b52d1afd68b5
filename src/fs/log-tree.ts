// What the mount shows, independent of FUSE: attributes, listings and reads by path, with errors
// as errno names. The FUSE adapter only translates these calls.
import { HandedOverReads, type DirectReads } from './direct-reads.js';
import { Existence, type DirectoryNames } from './existence.js';
import { FsError } from './fs-error.js';
import { MAX_HANDLE } from './kernel-cache.js';
import { ReadBuffers } from './read-buffers.js';
import type { HourReader } from '../store/disk-cache.js';
import { EarlyHour } from '../store/early-hour.js';
import type { HourStore } from '../store/hour-store.js';
import type { Listings } from '../store/listings.js';
import { CURRENT_LINK, hourFileName, parseLogPath, type ContainerRef, type LogPath } from '../model/log-path.js';
import type { NamespacePolicy } from '../model/namespace-policy.js';
import type { MountStats } from '../model/stats.js';
import { DAY_MS, parseDayName, type TimeZoneModel } from '../model/time-model.js';

export interface Attributes {
  type: 'directory' | 'file' | 'symlink';
  size: number;
  mtimeMs: number;
  /** They never change while the mount runs: a finished hour's file. */
  stable?: boolean;
}

export const CONTROL_DIR = '/.bqlogfs';
export const STATS_FILE = '/.bqlogfs/stats';

/** An open hour file of the cache, by its path in the mount. */
interface CachedFile {
  kind: 'file';
  path: string;
  ref: ContainerRef;
  reader: HourReader;
  /** The size and mtime the file had when opened. */
  version: { size: number; mtimeMs: number };
}

type OpenFile = CachedFile | { kind: 'memory'; data: Buffer };

/** Bytes a read found, in a buffer that goes back to its owner with `done`. */
export interface ReadChunk {
  data: Buffer;
  done(): void;
}

export class LogTree {
  private readonly openFiles = new Map<number, OpenFile>();
  private readonly readBuffers = new ReadBuffers();
  /** Handles open per hour file path: only an hour a reader has open is refreshed. */
  private readonly readers = new Map<string, number>();
  private nextHandle = 0;
  private statsSnapshot = { data: Buffer.alloc(0), atMs: 0 };
  private statsReaders = 0;
  private readonly existence: Existence;
  private readonly handedOver = new HandedOverReads();

  constructor(
    private readonly listings: Listings,
    private readonly hours: HourStore,
    private readonly stats: MountStats,
    private readonly options: {
      mountedAtMs: number;
      now: () => number;
      zone: TimeZoneModel;
      allowsNamespace: NamespacePolicy;
      /** How often the hour filling now is listed again while it has no entries. */
      refreshMs: number;
    },
  ) {
    this.existence = new Existence(listings, hours, options);
  }

  async getattr(path: string): Promise<Attributes> {
    this.stats.attributesRequested();
    if (path === CONTROL_DIR) return this.directory();
    if (path === STATS_FILE) {
      const snapshot = this.takeStatsSnapshot();
      return { type: 'file', size: snapshot.data.length, mtimeMs: snapshot.atMs };
    }
    const parsed = this.parse(path);
    if (!parsed) throw new FsError('ENOENT');
    switch (parsed.kind) {
      case 'root':
        return this.directory();
      case 'namespace':
      case 'pod':
        return this.existingDirectory(parsed);
      case 'container':
        return this.existingDirectory(parsed.ref);
      case 'current':
        return { type: 'symlink', size: this.currentTarget().length, mtimeMs: this.options.now() };
      case 'day': {
        // A day that has not begun cannot hold entries; older days open even outside the window.
        if ((parseDayName(parsed.day) ?? 0) > this.options.now() + DAY_MS) throw new FsError('ENOENT');
        return this.existingDirectory({ ...parsed.ref, day: parsed.day });
      }
      case 'hour': {
        const range = this.options.zone.hourRange(parsed.day, parsed.hour);
        // An hour skipped by a clock change, or one that has not begun, has no entries.
        if (!range || range.startMs > this.options.now()) throw new FsError('ENOENT');
        const cached = await this.hours.finalHour(parsed.ref, parsed.day, parsed.hour);
        if (cached) return { type: 'file', size: cached.size, mtimeMs: cached.mtimeMs, stable: true };
        if (!(await this.existence.hour(parsed.ref, parsed.day, parsed.hour))) throw new FsError('ENOENT');
        const beingRead = (this.readers.get(path) ?? 0) > 0;
        const file = await this.hours.hourForReading(parsed.ref, parsed.day, parsed.hour, beingRead);
        if (!file) throw new FsError('ENOENT');
        // An early hour is withdrawn if its fetch has to start again, and its file may then have
        // another size (early-hour.ts).
        const stable = !(file instanceof EarlyHour) && file.final;
        return { type: 'file', size: file.size, mtimeMs: file.mtimeMs, stable };
      }
    }
  }

  async readdir(path: string): Promise<string[]> {
    if (path === CONTROL_DIR) return ['stats'];
    const parsed = this.parse(path);
    if (!parsed) throw new FsError('ENOENT');
    switch (parsed.kind) {
      case 'root':
        return (await this.listings.namespaces()).filter(this.options.allowsNamespace);
      case 'namespace':
        await this.existingDirectory(parsed);
        return this.listings.pods(parsed.namespace);
      case 'pod':
        await this.existingDirectory(parsed);
        return this.listings.containers(parsed.namespace, parsed.pod);
      case 'container':
        await this.existingDirectory(parsed.ref);
        return [...(await this.listings.days(parsed.ref)), CURRENT_LINK];
      case 'day':
        return (await this.listings.hoursOf(parsed.ref, parsed.day)).map(hourFileName);
      case 'hour':
      case 'current':
        throw new FsError('ENOTDIR');
    }
  }

  /**
   * The directory's names with the type of each, which the kernel hands on as d_type: `find` and
   * `ls -R` then need no lookup of each name, so listing a tree never fetches an hour.
   */
  async readdirTyped(path: string): Promise<{ name: string; type: Attributes['type'] }[]> {
    const names = await this.readdir(path);
    const kind = path === CONTROL_DIR ? 'control' : this.parse(path)?.kind;
    return names.map((name) => ({
      name,
      type: kind === 'day' || kind === 'control' ? 'file' : name === CURRENT_LINK ? 'symlink' : 'directory',
    }));
  }

  async readlink(path: string): Promise<string> {
    if (this.parse(path)?.kind !== 'current') throw new FsError('EINVAL');
    return this.currentTarget();
  }

  /** `YYYY-MM-DD/HH.log` of the hour that is filling now, relative to the container directory. */
  private currentTarget(): string {
    const { day, hour } = this.options.zone.localHour(this.options.now());
    return `${day}/${hourFileName(hour)}`;
  }

  async open(path: string, writable: boolean): Promise<number> {
    if (writable) throw new FsError('EROFS');
    let file: OpenFile;
    let final = false;
    if (path === STATS_FILE) {
      // The kernel may open a name it looked up a moment ago without asking for its attributes
      // again, so the figures are taken at open, not only at lookup.
      file = { kind: 'memory', data: this.takeStatsSnapshot().data };
      this.statsReaders++;
    } else {
      const parsed = this.parse(path);
      if (parsed?.kind !== 'hour') throw new FsError(parsed ? 'EISDIR' : 'ENOENT');
      const hour = await this.hours.hourForReading(parsed.ref, parsed.day, parsed.hour);
      if (!hour) throw new FsError('ENOENT');
      const reader = await this.hours.openForReading(hour);
      file = { kind: 'file', path, ref: parsed.ref, reader, version: { size: hour.size, mtimeMs: hour.mtimeMs } };
      this.readers.set(path, (this.readers.get(path) ?? 0) + 1);
      this.hours.follow(parsed.ref);
      final = !(hour instanceof EarlyHour) && hour.final;
    }
    const handle = this.freeHandle();
    this.openFiles.set(handle, file);
    if (final && file.kind === 'file') this.handedOver.start(handle, file.version.size, file.reader);
    return handle;
  }

  /** From now on, the reads of final hours are served by `directReads` where their readers allow. */
  serveReadsDirectly(directReads: DirectReads): void {
    this.handedOver.serveWith(directReads);
    this.stats.countReadsServedElsewhere(() => directReads.counts());
  }

  /** The size and mtime of the hour file open as `handle` when it was opened; undefined for other files. */
  versionOf(handle: number): { size: number; mtimeMs: number } | undefined {
    const file = this.openFiles.get(handle);
    return file?.kind === 'file' ? file.version : undefined;
  }

  /** A handle number no open file has, below MAX_HANDLE. */
  private freeHandle(): number {
    do this.nextHandle = this.nextHandle >= MAX_HANDLE ? 1 : this.nextHandle + 1;
    while (this.openFiles.has(this.nextHandle));
    return this.nextHandle;
  }

  /**
   * Reads into a buffer of the tree's own, which the caller copies from and then gives back with
   * `done`. The kernel's buffer is never written by a disk read that could outlive its request.
   */
  async read(handle: number, length: number, position: number): Promise<ReadChunk> {
    const file = this.openFiles.get(handle);
    if (!file) throw new FsError('EBADF');
    const startedAt = performance.now();
    let chunk: ReadChunk;
    if (file.kind === 'memory') {
      const end = Math.max(position, Math.min(file.data.length, position + length));
      chunk = { data: file.data.subarray(position, end), done: () => undefined };
    } else {
      const landing = this.readBuffers.take(length);
      try {
        const { bytesRead } = await file.reader.read(landing, 0, length, position);
        chunk = { data: landing.subarray(0, bytesRead), done: () => this.readBuffers.give(landing) };
      } catch (error) {
        this.readBuffers.give(landing);
        throw error;
      }
    }
    this.stats.readDone(chunk.data.length, performance.now() - startedAt);
    return chunk;
  }

  async release(handle: number): Promise<void> {
    const file = this.openFiles.get(handle);
    this.openFiles.delete(handle);
    if (file?.kind === 'memory') this.statsReaders--;
    if (file?.kind !== 'file') return;
    this.hours.unfollow(file.ref);
    const left = (this.readers.get(file.path) ?? 1) - 1;
    if (left > 0) this.readers.set(file.path, left);
    else this.readers.delete(file.path);
    this.handedOver.end(handle);
    await file.reader.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.openFiles.keys()].map((handle) => this.release(handle)));
    await this.hours.closeIdleReaders();
  }

  /** The path's meaning, or undefined for no such file, including namespaces this mount hides. */
  private parse(path: string): LogPath | undefined {
    const parsed = parseLogPath(path);
    if (!parsed || parsed.kind === 'root') return parsed;
    const namespace = parsed.kind === 'namespace' || parsed.kind === 'pod' ? parsed.namespace : parsed.ref.namespace;
    return this.options.allowsNamespace(namespace) ? parsed : undefined;
  }

  /**
   * The figures as of now, unless someone is reading them: then the copy they read, so the size stays
   * theirs. Its time is when it was taken, so the kernel drops a cached older copy when it opens.
   */
  private takeStatsSnapshot(): { data: Buffer; atMs: number } {
    if (this.statsReaders === 0) {
      const atMs = Math.max(this.options.now(), this.statsSnapshot.atMs + 1);
      this.statsSnapshot = { data: Buffer.from(JSON.stringify(this.stats, null, 2) + '\n'), atMs };
    }
    return this.statsSnapshot;
  }

  private async existingDirectory(names: DirectoryNames): Promise<Attributes> {
    if (!(await this.existence.directory(names))) throw new FsError('ENOENT');
    return this.directory(await this.latestEntryMs(names));
  }

  /**
   * When the directory last got an entry, from what the listing or the cache already know (no query
   * is sent for it); undefined when neither knows.
   */
  private async latestEntryMs(names: DirectoryNames): Promise<number | undefined> {
    const listed = this.listings.latestEntryMs(names);
    if (listed !== undefined || names.day === undefined || names.pod === undefined || names.container === undefined) {
      return listed;
    }
    const ref = { namespace: names.namespace, pod: names.pod, container: names.container };
    const last = (await this.hours.finalHours(ref, names.day))?.at(-1);
    return last === undefined ? undefined : this.options.zone.hourRange(names.day, last)?.endMs;
  }

  /** A directory; as old as the mount unless the time of its latest entry is known. */
  private directory(latestEntryMs?: number): Attributes {
    return { type: 'directory', size: 4096, mtimeMs: latestEntryMs ?? this.options.mountedAtMs };
  }
}
