// What the kernel may keep of the mount's files between calls, when the binding lets the daemon say
// it per file (fuse-binding.ts, patches/README.md). Without that, libfuse 2 gives every file the
// mount's attribute timeout, which must be 0 for the live hour's size to be fresh, so the kernel
// asked again for the attributes of a finished hour at every open, fstat and end of file.
import { LRUCache } from 'lru-cache';

/**
 * How long the kernel keeps the attributes of a file that never changes (a finished hour), seconds.
 * As long as it keeps names: both then expire together, and a file fetched again with other bytes
 * (an evicted day whose late entries came in the meantime) shows its new size within a second.
 */
export const STABLE_ATTRIBUTES_S = 1;

/** Set in the handle an open answers with: the kernel keeps what it cached of the file's pages. */
export const KEEP_CACHE_FLAG = 0x40000000;

/** Handles stay below KEEP_CACHE_FLAG. */
export const MAX_HANDLE = KEEP_CACHE_FLAG - 1;

/** What distinguishes one version of a file from the next: a live hour grows, a finished one gets the hour's end as mtime. */
export interface FileVersion {
  size: number;
  mtimeMs: number;
}

interface OpenVersion {
  path: string;
  version: FileVersion;
  /** The open let the kernel keep the pages it had. */
  kept: boolean;
  /** The kernel used the handle (a read or its release), so it got the open's answer. */
  seen: boolean;
  /** A handle of another version read after this open was answered: the pages may be of both. */
  mixed: boolean;
}

/**
 * Decides at each open whether the kernel may keep the pages it cached of the file: only when they
 * can only be of the version being opened. Per path it knows which version the kernel's pages are
 * of: that of an open that dropped them (answered without keeping them), once the kernel is seen
 * to have had that answer (a read or a release of the handle; an open the kernel gave up on, for a
 * reader killed while it waited, was never answered), and unless a handle of another version read
 * meanwhile; and none as soon as a handle of another version reads (a reader that opened the live
 * hour reads on after it was sealed in place, into the same page cache). While a handle of another
 * version is open, an open drops the pages. libfuse's `auto_cache` decided from the attributes it
 * last fetched instead, asking for them again at every open.
 */
export class PageCacheVersions {
  private readonly cached = new LRUCache<string, FileVersion>({ max: 10_000 });
  private readonly handles = new Map<number, OpenVersion>();
  private readonly byPath = new Map<string, Set<number>>();

  /** Records the open of `version` at `path` as `handle`; true when the kernel may keep the pages it has. */
  opened(handle: number, path: string, version: FileVersion | undefined): boolean {
    if (version === undefined) return false;
    const others = this.otherVersionsOpen(path, version);
    const kept = !others && sameVersion(this.cached.get(path), version);
    this.handles.set(handle, { path, version, kept, seen: false, mixed: false });
    const handles = this.byPath.get(path) ?? new Set<number>();
    this.byPath.set(path, handles.add(handle));
    return kept;
  }

  /** The kernel reads through `handle`. */
  read(handle: number): void {
    const open = this.handles.get(handle);
    if (open === undefined) return;
    this.seen(open);
    if (sameVersion(this.cached.get(open.path), open.version)) return;
    this.cached.delete(open.path);
    for (const other of this.byPath.get(open.path) ?? []) {
      const answered = this.handles.get(other);
      if (answered && !sameVersion(answered.version, open.version)) answered.mixed = true;
    }
  }

  /** The kernel never got the open of `handle` (it gave up waiting): forgotten, as if never made. */
  abandoned(handle: number): void {
    this.forget(handle);
  }

  /** The kernel released `handle`. */
  released(handle: number): void {
    const open = this.handles.get(handle);
    if (open === undefined) return;
    this.seen(open);
    this.forget(handle);
  }

  private forget(handle: number): void {
    const open = this.handles.get(handle);
    if (open === undefined) return;
    this.handles.delete(handle);
    const handles = this.byPath.get(open.path);
    handles?.delete(handle);
    if (handles?.size === 0) this.byPath.delete(open.path);
  }

  private seen(open: OpenVersion): void {
    if (open.seen) return;
    open.seen = true;
    if (open.kept) return;
    if (open.mixed || this.otherVersionsOpen(open.path, open.version)) this.cached.delete(open.path);
    else this.cached.set(open.path, open.version);
  }

  private otherVersionsOpen(path: string, version: FileVersion): boolean {
    for (const handle of this.byPath.get(path) ?? []) {
      const open = this.handles.get(handle);
      if (open && !sameVersion(open.version, version)) return true;
    }
    return false;
  }
}

function sameVersion(a: FileVersion | undefined, b: FileVersion): boolean {
  return a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs;
}
