// Translates fuse-native callbacks into LogTree calls. fuse-native runs every callback on the JS
// thread, so nothing here may block: every path is async, and every callback gets a number first.
import { constants } from 'node:fs';
import Fuse from 'fuse-native';
import type { Logger } from 'pino';
import { fsErrorOf, reportFsError, type Errno } from './fs-error.js';
import { interruptOptions, type BindingFeatures } from './fuse-binding.js';
import { KEEP_CACHE_FLAG, PageCacheVersions, STABLE_ATTRIBUTES_S } from './kernel-cache.js';
import type { LogTree } from './log-tree.js';

export { bindingFeatures } from './fuse-binding.js';

type Callback = (code: number, ...results: unknown[]) => void;

const BLOCK_SIZE = 4096;
const EPOCH = new Date(0);
const DIRENT_STAT = {
  uid: 0,
  gid: 0,
  size: 0,
  nlink: 1,
  blksize: BLOCK_SIZE,
  blocks: 0,
  mtime: EPOCH,
  atime: EPOCH,
  ctime: EPOCH,
};
/** Every directory lists itself and its parent, as on any other filesystem. */
const DOT_ENTRIES = [
  { name: '.', type: 'directory' },
  { name: '..', type: 'directory' },
] as const;
/** Directories may be entered by whoever may read files. */
function modes(fileMode: number) {
  const searchable = ((fileMode & 0o444) >> 2) | fileMode;
  return {
    directory: constants.S_IFDIR | (searchable & 0o555),
    file: constants.S_IFREG | (fileMode & 0o444),
    symlink: constants.S_IFLNK | 0o777,
  } as const;
}

export interface FuseMountOptions {
  uid: number;
  gid: number;
  /** Permission bits of files; only read bits count, as the mount is read-only. */
  fileMode: number;
  /** Let other users in (allow_other), with the kernel checking the modes (default_permissions). */
  allowOther: boolean;
  /** Per-operation timeout in ms; must outlast the query timeout so slow queries are not cut short. */
  operationTimeoutMs: number;
  /** Kernel cache lifetime of names (dentries), seconds; more than 0. */
  entryTimeoutS: number;
  /**
   * Kernel cache lifetime of attributes, seconds, but for those the tree calls stable when the
   * binding sets timeouts per file (STABLE_ATTRIBUTES_S). 0 lets a reader that opens the live hour
   * see the size that open just refreshed, rather than the one the path lookup before it cached.
   */
  attrTimeoutS: number;
  /** Only the mountpoint's placeholder file may be hidden by the mount. */
  allowPlaceholder: boolean;
  /** Told the errno name of every error returned to the kernel. */
  onError?: (errno: string) => void;
  /** What the binding can do (fuse-binding.ts): answer interrupts, set attribute timeouts per file. */
  binding: BindingFeatures;
}

function isWriteOpen(flags: number): boolean {
  const accessMode = flags & (constants.O_RDONLY | constants.O_WRONLY | constants.O_RDWR);
  return accessMode !== constants.O_RDONLY || (flags & constants.O_TRUNC) !== 0;
}

export function createFuse(mountpoint: string, tree: LogTree, log: Logger, options: FuseMountOptions): Fuse {
  const MODES = modes(options.fileMode);
  const fail = (cb: Callback, errno: Errno) => {
    options.onError?.(errno);
    cb(Fuse[errno] as number);
  };
  // Every operation is answered before fuse-native's own timeout would answer it, so nothing is
  // done with a request, such as copying into its read buffer, after it was answered.
  const deadlineMs = Math.max(1_000, options.operationTimeoutMs - 1_000);
  /** `late`: what to do with a value that came after the operation was answered ETIMEDOUT. */
  const reply = <T>(
    op: string,
    path: string,
    cb: Callback,
    work: Promise<T>,
    send: (value: T) => void,
    late?: (value: T) => void,
  ) => {
    let answered = false;
    const deadline = setTimeout(() => {
      answered = true;
      log.error({ op, path, afterMs: deadlineMs }, 'operation timed out; see --query-timeout');
      fail(cb, 'ETIMEDOUT');
    }, deadlineMs);
    work.then(
      (value) => {
        clearTimeout(deadline);
        if (!answered) send(value);
        else late?.(value);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        if (answered) return;
        const fsError = fsErrorOf(error);
        reportFsError(log, fsError, op, path);
        fail(cb, fsError.errno);
      },
    );
    return work;
  };
  const readOnly = (...args: unknown[]) => fail(args[args.length - 1] as Callback, 'EROFS');
  const perFile = options.binding.setsAttributeTimeouts;
  const pageCache = new PageCacheVersions();
  /** A handle the kernel will never release, as it never got the open's answer. */
  const releaseUnanswered = (path: string, handle: number, why: string) => {
    log.debug({ op: 'open', path, handle }, `${why}; released its handle`);
    void tree.release(handle).catch((error: unknown) => log.warn({ path, err: String(error) }, 'release failed'));
  };
  const takeAbandonedOpen = options.binding.takeAbandonedOpen;
  /**
   * fuse-native 2.2.6 hands an answer to the binding at the next tick (its `signal`). The patched
   * binding keeps the handle of an open whose reader was killed while it waited (its worker answered
   * EINTR already), so that the open's reader and its cache file are let go rather than held for
   * the daemon's life. Only the open just answered can have put a handle there.
   */
  const whenAbandoned = (path: string, handle: number) => {
    if (takeAbandonedOpen === undefined) return;
    process.nextTick(() => {
      const thread = fuseThread();
      const taken = thread ? takeAbandonedOpen(thread) : 0;
      if (taken === 0) return;
      if (taken !== handle) log.warn({ path, handle, taken }, 'the binding gave back the handle of another open');
      pageCache.abandoned(taken);
      releaseUnanswered(path, taken, 'an open was answered after its reader was killed');
    });
  };

  const ops = {
    getattr: (path: string, cb: Callback) =>
      reply('getattr', path, cb, tree.getattr(path), (attrs) => {
        const mtime = new Date(attrs.mtimeMs);
        cb(0, {
          mode: MODES[attrs.type],
          uid: options.uid,
          gid: options.gid,
          size: attrs.size,
          nlink: attrs.type === 'directory' ? 2 : 1,
          blksize: BLOCK_SIZE,
          blocks: Math.ceil(attrs.size / 512),
          // The patched binding moves this into the reply as the attributes' timeout (seconds).
          rdev: perFile && attrs.stable ? STABLE_ATTRIBUTES_S : 0,
          mtime,
          atime: mtime,
          ctime: mtime,
        });
      }),
    readlink: (path: string, cb: Callback) =>
      reply('readlink', path, cb, tree.readlink(path), (target) => cb(0, target)),
    readdir: (path: string, cb: Callback) =>
      reply('readdir', path, cb, tree.readdirTyped(path), (listed) => {
        const entries = [...DOT_ENTRIES, ...listed];
        cb(
          0,
          entries.map((entry) => entry.name),
          // Only the type counts: libfuse 2 passes it on as d_type and caches nothing else.
          entries.map((entry) => ({ ...DIRENT_STAT, mode: MODES[entry.type] })),
        );
      }),
    open: (path: string, flags: number, cb: Callback) =>
      reply(
        'open',
        path,
        cb,
        tree.open(path, isWriteOpen(flags)),
        (handle) => {
          const keep = perFile && pageCache.opened(handle, path, tree.versionOf(handle));
          cb(0, keep ? handle | KEEP_CACHE_FLAG : handle);
          whenAbandoned(path, handle);
        },
        (handle) => releaseUnanswered(path, handle, 'an open was answered after its deadline'),
      ),
    read: (path: string, handle: number, buffer: Buffer, length: number, position: number, cb: Callback) => {
      pageCache.read(handle);
      const reading = reply('read', path, cb, tree.read(handle, length, position), (chunk) =>
        cb(chunk.data.copy(buffer)),
      );
      void reading.then(
        (chunk) => chunk.done(),
        () => undefined,
      );
    },
    release: (path: string, handle: number, cb: Callback) => {
      pageCache.released(handle);
      reply('release', path, cb, tree.release(handle), () => cb(0));
    },
    statfs: (_path: string, cb: Callback) =>
      cb(0, {
        bsize: BLOCK_SIZE,
        frsize: BLOCK_SIZE,
        blocks: 0,
        bfree: 0,
        bavail: 0,
        files: 0,
        ffree: 0,
        namemax: 255,
      }),
    write: readOnly,
    create: readOnly,
    truncate: readOnly,
    ftruncate: readOnly,
    mkdir: readOnly,
    rmdir: readOnly,
    unlink: readOnly,
    rename: readOnly,
    link: readOnly,
    symlink: readOnly,
    chmod: readOnly,
    chown: readOnly,
    utimens: readOnly,
    setxattr: readOnly,
    removexattr: readOnly,
  };

  // fuse-native has no `ro` or `nonempty` switch; its options are joined with commas, so they ride
  // along after fsname. `nonempty` is only used when the mountpoint holds nothing but its placeholder.
  const extraOptions = [
    'ro',
    ...(options.allowPlaceholder ? ['nonempty'] : []),
    ...interruptOptions(options.binding.answersInterrupts),
  ];
  const fuse = new Fuse(mountpoint, ops, {
    fsname: ['bqlogfs', ...extraOptions].join(','),
    subtype: 'bqlogfs',
    // With timeouts per file, the open decides itself whether the kernel keeps a file's pages.
    autoCache: !options.binding.setsAttributeTimeouts,
    allowOther: options.allowOther,
    defaultPermissions: options.allowOther,
    // fuse-native drops falsy options, so 0 goes as a string.
    attrTimeout: String(options.attrTimeoutS),
    entryTimeout: options.entryTimeoutS,
    timeout: options.operationTimeoutMs,
  });
  // The mount's state in the binding, which fuse-native allocates when it mounts.
  const fuseThread = () => (fuse as unknown as { _thread: Buffer | null })._thread;
  if (options.binding.directReads) tree.serveReadsDirectly(options.binding.directReads(fuseThread));
  return fuse;
}
