// The disk cache's temporary files. A new hour file or manifest is written under a temporary name in
// its day's directory and renamed into place once whole; a scratch file is one that is only removed. Each name says which process writes it
// (host, pid and the process's start time), so the files a dead process left are removed as soon as
// a process sharing the cache comes across them, while those another running process (a mount and a
// `fetch` may share one cache) is still writing stay. A process removes its own when it stops.
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';

export const PARTIAL_SUFFIX = '.partial';
/** A temporary file of a writer this process cannot judge, untouched this long, belongs to a dead one. */
const ABANDONED_PARTIAL_MS = 10 * 60_000;
/** `.<name>.<random>.<host>-<pid>-<start>.partial`; older names lack the owner. */
const OWNED_NAME = /\.([0-9a-f]{8})-(\d+)-(\d+)\.partial$/;

const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/** When a process started, in clock ticks since boot (field 22 of /proc/<pid>/stat); undefined if unknown. */
async function startTimeOf(pid: number | 'self'): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return text?.slice(text.lastIndexOf(')') + 2).split(' ')[19];
}

/** Whether the writer a temporary file's name tells of has gone; undefined when this process cannot tell. */
async function ownerIsGone(name: string): Promise<boolean | undefined> {
  const found = OWNED_NAME.exec(name);
  if (!found || found[1] !== HOST) return undefined;
  const pid = Number(found[2]);
  if (found[3] !== '0') {
    const started = await startTimeOf(pid);
    if (started !== undefined) return started !== found[3];
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface TemporaryFile {
  path: string;
  handle: FileHandle;
  /** The file was renamed into place or removed: it no longer needs removing when the process stops. */
  settled(): void;
}

/** A temporary file that is never renamed into place: scratch space, removed once used. */
export interface ScratchFile {
  /** Open for writing. */
  handle: FileHandle;
  /** Opens it for reading; the caller closes what it gets. */
  openForReading(): Promise<FileHandle>;
  /** Closes `handle` and removes the file. */
  remove(): Promise<void>;
}

export class TemporaryFiles {
  private readonly own = new Set<string>();
  private closed = false;

  private constructor(private readonly owner: string) {}

  static async forThisProcess(): Promise<TemporaryFiles> {
    return new TemporaryFiles(`${HOST}-${process.pid}-${(await startTimeOf('self')) ?? '0'}`);
  }

  /** A new temporary file in `dir` for the file `name`, open for writing. */
  async create(dir: string, name: string): Promise<TemporaryFile> {
    if (this.closed) throw new Error('the disk cache is closed: the process is stopping');
    const path = join(dir, `.${name}.${randomBytes(6).toString('hex')}.${this.owner}${PARTIAL_SUFFIX}`);
    const handle = await open(path, 'wx', 0o600);
    this.own.add(path);
    return { path, handle, settled: () => this.own.delete(path) };
  }

  /**
   * A scratch file in `dir` (made if missing), named as a temporary file: removed by `remove`, when
   * the process stops, or by the next process to come across it once this one is dead.
   */
  async createScratch(dir: string, name: string): Promise<ScratchFile> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = await this.create(dir, name);
    return {
      handle: temp.handle,
      openForReading: () => open(temp.path, 'r'),
      remove: async () => {
        await temp.handle.close().catch(() => undefined);
        await rm(temp.path, { force: true });
        temp.settled();
      },
    };
  }

  /** Removes the temporary files under `root` that a dead process left. */
  async removeAbandonedUnder(root: string): Promise<void> {
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (entry.isFile() && entry.name.endsWith(PARTIAL_SUFFIX))
        await this.removeIfAbandoned(join(entry.parentPath, entry.name));
    }
  }

  /**
   * Removes a temporary file if its writer is gone: at once when its name tells of a process on this
   * host that no longer runs; otherwise (an older name, another host) once it is long untouched.
   */
  async removeIfAbandoned(path: string): Promise<void> {
    if (this.own.has(path)) return;
    const gone = await ownerIsGone(basename(path));
    if (gone === false) return;
    if (gone === undefined) {
      const found = await stat(path).catch(() => undefined);
      if (!found || Date.now() - found.mtimeMs <= ABANDONED_PARTIAL_MS) return;
    }
    await rm(path, { force: true });
  }

  /** Removes this process's temporary files, and refuses new ones: the process is stopping. */
  async close(): Promise<void> {
    this.closed = true;
    const paths = [...this.own];
    this.own.clear();
    await Promise.all(paths.map((path) => rm(path, { force: true })));
  }

  /** `close` for a process that exits at once, from a signal handler. */
  closeNow(): void {
    this.closed = true;
    for (const path of this.own) rmSync(path, { force: true });
    this.own.clear();
  }
}
