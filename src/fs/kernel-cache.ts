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

/**
 * Decides at each open whether the kernel may keep the pages it cached of the file: only when the
 * file is the same version as at the path's last open, whose reads are the only way pages got
 * there. This is libfuse's `auto_cache`, which compared with the last attributes it fetched for the
 * open itself; here the daemon knows the version it opens, so the open costs no extra call.
 */
export class PageCacheVersions {
  private readonly opened = new LRUCache<string, FileVersion>({ max: 10_000 });

  /** Records the version opened at `path`; true when the kernel may keep the pages it has. */
  keepsPages(path: string, version: FileVersion | undefined): boolean {
    const before = this.opened.get(path);
    if (version === undefined) {
      this.opened.delete(path);
      return false;
    }
    this.opened.set(path, version);
    return before !== undefined && before.size === version.size && before.mtimeMs === version.mtimeMs;
  }
}
