// The local disk cache of fetched hour files, and the only module that touches them: it hands out
// writers, readers and copies by hour, never paths. A new file is written under a temporary name and
// renamed into place only when complete, so a crash can leave litter but never a short file under a
// real name; the live hour's file is appended to, and cut back to its old size when abandoned.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { ContainerRef } from '../model/log-path.js';
import { hourFileName } from '../model/log-path.js';
import type { DayName } from '../model/time-model.js';
import { PARTIAL_SUFFIX, TemporaryFiles, type ScratchFile, type TemporaryFile } from './temporary-files.js';
import {
  appendingWriter,
  Checksum,
  newFileWriter,
  readerOf,
  type HourFileWriter,
  type HourReader,
  type NewHourFile,
} from './hour-file-writers.js';

export type { HourReader, NewHourFile } from './hour-file-writers.js';

export type { HourFileWriter } from './hour-file-writers.js';

/** What is known for good about one container-day. */
export interface DayManifest {
  /** Every hour that ends at or before this instant is final: listed in `hours` or empty. */
  knownThroughMs: number;
  /** Size in bytes of each final hour file that has entries, by hour. */
  hours: Record<string, number>;
  /** The checksum (CRC-32, hex) of each final hour file, by hour, recorded when it was written. */
  crc32?: Record<string, string>;
  /** The CRC-32 of each 1 MiB block of each final hour file, 8 hex digits a block, by hour. */
  blocks?: Record<string, string>;
}

/** Which hour file of the cache. */
export interface HourId {
  ref: ContainerRef;
  day: DayName;
  hour: number;
}

/** An hour file of the cache and how many of its bytes are whole. */
export interface CachedHour extends HourId {
  size: number;
}

/** A cache file on disk: its size and when it was last written. */
export interface HourFileStat {
  size: number;
  mtimeMs: number;
}

/** A key over everything that changes the bytes of a file, so no option change can serve stale content. */
export function cacheKey(parts: Record<string, unknown>): string {
  const canonical = JSON.stringify(Object.entries(parts).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** `namespace/pod/container/day`: the unit the cache stores, bounds and evicts. */
export function dayKey(ref: ContainerRef, day: DayName): string {
  return `${ref.namespace}/${ref.pod}/${ref.container}/${day}`;
}

const MANIFEST_NAME = 'manifest.json';
/** How often the cache looks for temporary files that another process sharing it left when it died. */
const LEFTOVER_SWEEP_MS = 10 * 60_000;
/** Directory depth of a day below the cache root: namespace/pod/container/day. */
const DAY_DEPTH = 4;
const SCRATCH_DIR = '.scratch'; // beside the namespaces: a name no path of the mount can have
/** Bytes hashed at a time when a file is verified: the JS thread is never held for the whole file. */
const VERIFY_CHUNK_BYTES = 1 << 20;

export class DiskCache {
  /** Bytes on disk per container-day, least recently used first out once over the bound. */
  private readonly days: LRUCache<string, number>;
  private readonly evictionListeners = new Set<(key: string) => void>();

  private constructor(
    private readonly root: string,
    maxBytes: number,
    private readonly temporaryFiles: TemporaryFiles,
  ) {
    this.days = new LRUCache<string, number>({
      maxSize: maxBytes,
      // A day larger than the whole bound still has to be kept while it is read: it counts as the
      // whole bound, so it pushes everything else out and goes itself when the next day comes.
      sizeCalculation: (bytes) => Math.min(maxBytes, Math.max(1, bytes)),
      dispose: (_bytes, key, reason) => {
        if (reason !== 'evict') return;
        for (const listener of this.evictionListeners) listener(key);
        rm(join(this.root, ...key.split('/')), { recursive: true, force: true }).catch(() => undefined);
      },
    });
  }

  /** Opens the cache and indexes what earlier runs left, clearing temporary files a crash left behind. */
  static async open(cacheDir: string, key: string, maxBytes: number): Promise<DiskCache> {
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    const root = join(cacheDir, key);
    await mkdir(root, { recursive: true, mode: 0o700 });
    const cache = new DiskCache(root, maxBytes, await TemporaryFiles.forThisProcess());
    await cache.indexExisting();
    // Another process sharing this cache may die while this one keeps running.
    const sweep = () => void cache.temporaryFiles.removeAbandonedUnder(root).catch(() => undefined);
    setInterval(sweep, LEFTOVER_SWEEP_MS).unref();
    return cache;
  }

  /** Removes the temporary files this process is writing, and refuses new ones: the process is stopping. */
  close(): Promise<void> {
    return this.temporaryFiles.close();
  }

  /** `close` for a process that exits at once, from a signal handler. */
  closeNow(): void {
    this.temporaryFiles.closeNow();
  }

  /**
   * Calls `listener` with the key (see `dayKey`) of every container-day evicted from now on, so
   * nothing keeps serving it from memory. Returns a function that stops the calls.
   */
  onEviction(listener: (key: string) => void): () => void {
    this.evictionListeners.add(listener);
    return () => this.evictionListeners.delete(listener);
  }

  private async indexExisting(): Promise<void> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    const sizes = new Map<string, { bytes: number; usedMs: number }>();
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      if (entry.name.endsWith(PARTIAL_SUFFIX)) {
        await this.temporaryFiles.removeIfAbandoned(path);
        continue;
      }
      const parts = relative(this.root, entry.parentPath).split(sep);
      if (parts.length !== DAY_DEPTH) continue;
      const found = await stat(path);
      const day = sizes.get(parts.join('/')) ?? { bytes: 0, usedMs: 0 };
      day.bytes += found.size;
      day.usedMs = Math.max(day.usedMs, found.atimeMs, found.mtimeMs);
      sizes.set(parts.join('/'), day);
    }
    for (const [key, { bytes }] of [...sizes].sort(([, a], [, b]) => a.usedMs - b.usedMs)) {
      this.days.set(key, bytes);
    }
  }

  /** Records the bytes a container-day now takes, which may evict older days. */
  recordDay(ref: ContainerRef, day: DayName, bytes: number): void {
    this.days.set(dayKey(ref, day), bytes);
  }

  /** Marks a container-day as just used. */
  touchDay(ref: ContainerRef, day: DayName): void {
    this.days.get(dayKey(ref, day));
  }

  /** Whether the cache holds any container-day under these leading names (namespace, pod, container, day). */
  holdsUnder(names: readonly string[]): boolean {
    const prefix = `${names.join('/')}/`;
    for (const key of this.days.keys()) if (`${key}/`.startsWith(prefix)) return true;
    return false;
  }

  get bytesUsed(): number {
    return this.days.calculatedSize;
  }

  private dayDir(ref: ContainerRef, day: DayName): string {
    return join(this.root, ref.namespace, ref.pod, ref.container, day);
  }

  private hourPath({ ref, day, hour }: HourId): string {
    return join(this.dayDir(ref, day), hourFileName(hour));
  }

  async readManifest(ref: ContainerRef, day: DayName): Promise<DayManifest | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dayDir(ref, day), MANIFEST_NAME), 'utf8')) as DayManifest;
    } catch {
      return undefined;
    }
  }

  async writeManifest(ref: ContainerRef, day: DayName, manifest: DayManifest): Promise<void> {
    const temp = await this.createTemp(ref, day, MANIFEST_NAME);
    try {
      try {
        await temp.handle.writeFile(JSON.stringify(manifest));
        await temp.handle.datasync();
      } finally {
        await temp.handle.close();
      }
      await rename(temp.path, join(this.dayDir(ref, day), MANIFEST_NAME));
    } catch (error) {
      await rm(temp.path, { force: true });
      throw error;
    } finally {
      temp.settled();
    }
  }

  /** The hour's file as it is on disk; undefined when there is none. */
  async statHour(id: HourId): Promise<HourFileStat | undefined> {
    const found = await stat(this.hourPath(id)).catch(() => undefined);
    return found && { size: found.size, mtimeMs: found.mtimeMs };
  }

  /** Opens the hour's file for reads at any position. */
  async openForReading(id: HourId): Promise<HourReader> {
    return readerOf(await open(this.hourPath(id), 'r'));
  }

  /**
   * Opens the hour's file for reads only if it holds exactly `file.size` bytes whose checksum is
   * `checksum`, checked through the same handle before any byte is handed out; undefined otherwise.
   */
  async openVerified(file: CachedHour, checksum: string): Promise<HourReader | undefined> {
    const handle = await open(this.hourPath(file), 'r');
    try {
      if ((await handle.stat()).size === file.size && (await checksumOf(handle, file.size)) === checksum) {
        return readerOf(handle);
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    await handle.close();
    return undefined;
  }

  /** Removes the hour's file, e.g. one found damaged. */
  async removeHour(id: HourId): Promise<void> {
    await rm(this.hourPath(id), { force: true });
  }

  /** The first `size` bytes of the hour's file, in chunks, for copying it elsewhere. */
  async *readWhole(file: CachedHour): AsyncIterable<Buffer> {
    if (file.size === 0) return;
    yield* createReadStream(this.hourPath(file), { start: 0, end: file.size - 1 }) as AsyncIterable<Buffer>;
  }

  /** A new file for the hour, under a temporary name until `commit` renames it into place. */
  async createHour(id: HourId): Promise<NewHourFile> {
    const temp = await this.createTemp(id.ref, id.day, hourFileName(id.hour));
    const writer = newFileWriter(temp.handle, {
      commit: () => rename(temp.path, this.hourPath(id)).finally(temp.settled),
      discard: () => rm(temp.path, { force: true }).finally(temp.settled),
    });
    return Object.assign(writer, { openWritten: async () => readerOf(await open(temp.path, 'r')) });
  }

  /** Appends to the hour's existing file, whose first `size` bytes are whole; `abandon` cuts it back to them. */
  async appendToHour(file: CachedHour): Promise<HourFileWriter> {
    return appendingWriter(await open(this.hourPath(file), 'a'), file.size);
  }

  /** A file for this process's intermediate data, in the cache's scratch directory; counts for no LRU. */
  createScratch(name: string): Promise<ScratchFile> {
    return this.temporaryFiles.createScratch(join(this.root, SCRATCH_DIR), name);
  }

  private async createTemp(ref: ContainerRef, day: DayName, name: string): Promise<TemporaryFile> {
    const dir = this.dayDir(ref, day);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return this.temporaryFiles.create(dir, name);
  }
}

/**
 * The checksum of the first `size` bytes of an open file, read a chunk at a time: the next chunk is
 * read while this one is summed.
 */
async function checksumOf(handle: FileHandle, size: number): Promise<string> {
  const checksum = new Checksum();
  const chunk = Math.min(VERIFY_CHUNK_BYTES, Math.max(1, size));
  const buffers = [Buffer.allocUnsafe(chunk), Buffer.allocUnsafe(chunk)];
  const readAt = (position: number, buffer: Buffer) =>
    handle.read(buffer, 0, Math.min(chunk, size - position), position);
  let position = 0;
  let next = size > 0 ? readAt(0, buffers[0] as Buffer) : undefined;
  for (let turn = 1; next; turn ^= 1) {
    const { bytesRead, buffer } = await next;
    position += bytesRead;
    next = bytesRead > 0 && position < size ? readAt(position, buffers[turn] as Buffer) : undefined;
    checksum.update(buffer.subarray(0, bytesRead));
  }
  return checksum.hex;
}
