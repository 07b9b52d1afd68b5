// What the mount shows, independent of FUSE: attributes, listings and reads by path, with errors
// as errno names. The FUSE adapter only translates these calls.
import { open as openFile, type FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { QueryFailure } from './bigquery-access.js';
import type { HourStore } from './hour-store.js';
import type { Listings } from './listings.js';
import { CURRENT_LINK, hourFileName, parseLogPath, type LogPath } from './log-path.js';
import type { NamespacePolicy } from './namespace-policy.js';
import type { MountStats } from './stats.js';
import { DAY_MS, parseDayName, type TimeZoneModel } from './time-model.js';

export type Errno = 'ENOENT' | 'ENOTDIR' | 'EIO' | 'EROFS' | 'EBADF' | 'EISDIR' | 'EINVAL';

export class FsError extends Error {
  constructor(readonly errno: Errno) {
    super(errno);
  }
}

export interface Attributes {
  type: 'directory' | 'file' | 'symlink';
  size: number;
  mtimeMs: number;
}

export const CONTROL_DIR = '/.bqlogfs';
export const STATS_FILE = '/.bqlogfs/stats';

/** Bytes read from a cached file at once; the kernel asks for at most 128 KiB per read. */
const READ_AHEAD_BYTES = 1 << 20;
/** Blocks kept per open file: those being read and those the kernel's read-ahead is already in. */
const KEPT_BLOCKS = 4;

/** A block of a cached file: `length` valid bytes of `data` from `start`. */
interface ReadAhead {
  start: number;
  length: number;
  data: Buffer;
}

/** An open hour file of the cache, with the blocks lately read from it, by offset. */
interface CachedFile {
  kind: 'file';
  path: string;
  handle: FileHandle;
  final: boolean;
  blocks: Map<number, Promise<ReadAhead>>;
}

type OpenFile = CachedFile | { kind: 'memory'; data: Buffer };

export class LogTree {
  private readonly openFiles = new Map<number, OpenFile>();
  /** Handles open per hour file path: only an hour a reader has open is refreshed. */
  private readonly readers = new Map<string, number>();
  private nextHandle = 1;
  private statsSnapshot = Buffer.alloc(0);
  private statsReaders = 0;

  constructor(
    private readonly listings: Listings,
    private readonly hours: HourStore,
    private readonly stats: MountStats,
    private readonly log: Logger,
    private readonly options: {
      mountedAtMs: number;
      now: () => number;
      zone: TimeZoneModel;
      allowsNamespace: NamespacePolicy;
    },
  ) {}

  async getattr(path: string): Promise<Attributes> {
    if (path === CONTROL_DIR) return this.directory();
    if (path === STATS_FILE) {
      // While someone reads the figures, the size stays that of the copy they read.
      if (this.statsReaders === 0) this.statsSnapshot = Buffer.from(JSON.stringify(this.stats, null, 2) + '\n');
      return { type: 'file', size: this.statsSnapshot.length, mtimeMs: this.options.now() };
    }
    const parsed = this.parse(path);
    if (!parsed) throw new FsError('ENOENT');
    switch (parsed.kind) {
      case 'root':
      case 'namespace':
      case 'pod':
      case 'container':
        return this.directory();
      case 'current':
        return { type: 'symlink', size: this.currentTarget().length, mtimeMs: this.options.now() };
      case 'day': {
        // A day that has not begun cannot hold entries; older days open even outside the window.
        if ((parseDayName(parsed.day) ?? 0) > this.options.now() + DAY_MS) throw new FsError('ENOENT');
        return this.directory();
      }
      case 'hour': {
        const beingRead = (this.readers.get(path) ?? 0) > 0;
        const file = await this.guard(path, () => this.hours.hour(parsed.ref, parsed.day, parsed.hour, beingRead));
        if (!file) throw new FsError('ENOENT');
        return { type: 'file', size: file.size, mtimeMs: file.mtimeMs };
      }
    }
  }

  async readdir(path: string): Promise<string[]> {
    if (path === CONTROL_DIR) return ['stats'];
    const parsed = this.parse(path);
    if (!parsed) throw new FsError('ENOENT');
    return this.guard(path, async () => {
      switch (parsed.kind) {
        case 'root':
          return (await this.listings.namespaces()).filter(this.options.allowsNamespace);
        case 'namespace':
          return this.listings.pods(parsed.namespace);
        case 'pod':
          return this.listings.containers(parsed.namespace, parsed.pod);
        case 'container':
          return [...(await this.listings.days(parsed.ref)), CURRENT_LINK];
        case 'day':
          return (await this.listings.hoursOf(parsed.ref, parsed.day)).map(hourFileName);
        case 'hour':
        case 'current':
          throw new FsError('ENOTDIR');
      }
    });
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
    if (path === STATS_FILE) {
      file = { kind: 'memory', data: this.statsSnapshot };
      this.statsReaders++;
    } else {
      const parsed = this.parse(path);
      if (parsed?.kind !== 'hour') throw new FsError(parsed ? 'EISDIR' : 'ENOENT');
      const hour = await this.guard(path, () => this.hours.hour(parsed.ref, parsed.day, parsed.hour));
      if (!hour) throw new FsError('ENOENT');
      file = { kind: 'file', path, handle: await openFile(hour.path, 'r'), final: hour.final, blocks: new Map() };
      this.readers.set(path, (this.readers.get(path) ?? 0) + 1);
    }
    const handle = this.nextHandle++;
    this.openFiles.set(handle, file);
    return handle;
  }

  async read(handle: number, buffer: Buffer, length: number, position: number): Promise<number> {
    const file = this.openFiles.get(handle);
    if (!file) throw new FsError('EBADF');
    const startedAt = performance.now();
    let bytesRead: number;
    if (file.kind === 'memory') {
      bytesRead =
        position >= file.data.length
          ? 0
          : file.data.copy(buffer, 0, position, Math.min(file.data.length, position + length));
    } else {
      bytesRead = await this.readCached(file, buffer, length, position);
    }
    this.stats.recordRead(bytesRead, performance.now() - startedAt);
    return bytesRead;
  }

  /**
   * Serves reads of a finished hour from whole aligned blocks of the cached file: each call from the
   * kernel costs a trip through libuv's thread pool, so fewer, larger reads keep the mount close to
   * a plain file. The kernel sends several reads of one handle at once (its own read-ahead), so
   * reads that fall in the same block share one read of it, and the two latest blocks are kept.
   * The live hour is read directly: a failed refetch may cut it back and write it again.
   */
  private async readCached(file: CachedFile, buffer: Buffer, length: number, position: number): Promise<number> {
    if (!file.final) return (await file.handle.read(buffer, 0, length, position)).bytesRead;
    let copied = 0;
    while (copied < length) {
      const at = position + copied;
      const block = await this.block(file, Math.floor(at / READ_AHEAD_BYTES) * READ_AHEAD_BYTES);
      const offset = at - block.start;
      if (offset >= block.length) break;
      copied += block.data.copy(buffer, copied, offset, Math.min(block.length, offset + length - copied));
      if (block.length < READ_AHEAD_BYTES) break;
    }
    return copied;
  }

  private block(file: CachedFile, start: number): Promise<ReadAhead> {
    const known = file.blocks.get(start);
    if (known) return known;
    const reading = (async () => {
      const data = Buffer.allocUnsafe(READ_AHEAD_BYTES);
      const { bytesRead } = await file.handle.read(data, 0, data.length, start);
      return { start, length: bytesRead, data };
    })();
    file.blocks.set(start, reading);
    reading.catch(() => file.blocks.delete(start));
    while (file.blocks.size > KEPT_BLOCKS) file.blocks.delete(file.blocks.keys().next().value ?? start);
    return reading;
  }

  async release(handle: number): Promise<void> {
    const file = this.openFiles.get(handle);
    this.openFiles.delete(handle);
    if (file?.kind === 'memory') this.statsReaders--;
    if (file?.kind !== 'file') return;
    const left = (this.readers.get(file.path) ?? 1) - 1;
    if (left > 0) this.readers.set(file.path, left);
    else this.readers.delete(file.path);
    await file.handle.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.openFiles.keys()].map((handle) => this.release(handle)));
  }

  /** The path's meaning, or undefined for no such file, including namespaces this mount hides. */
  private parse(path: string): LogPath | undefined {
    const parsed = parseLogPath(path);
    if (!parsed || parsed.kind === 'root') return parsed;
    const namespace = parsed.kind === 'namespace' || parsed.kind === 'pod' ? parsed.namespace : parsed.ref.namespace;
    return this.options.allowsNamespace(namespace) ? parsed : undefined;
  }

  private directory(): Attributes {
    return { type: 'directory', size: 4096, mtimeMs: this.options.mountedAtMs };
  }

  /** Turns a failed query into EIO and one log line that says why and what to do. */
  private async guard<T>(path: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof FsError) throw error;
      if (error instanceof QueryFailure) {
        this.log.error({ path, reason: error.reason, hint: error.hint }, `read failed: ${error.message}`);
      } else {
        this.log.error({ path, err: error }, 'read failed');
      }
      throw new FsError('EIO');
    }
  }
}
