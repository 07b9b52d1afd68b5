// Files that `fetch` writes for people to keep: each is written under a hidden temporary name in
// its final directory, fsync'ed and renamed into place, so no name ever holds a partial file.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface OutputFile {
  /** Where the file will be once committed. */
  path: string;
  /** Bytes appended so far. */
  size: number;
  /** Appends the chunks, which must come to exactly `size` bytes; `source` names them in an error. */
  appendFrom(chunks: AsyncIterable<Buffer>, size: number, source: string): Promise<void>;
  /** Appends the bytes. */
  append(bytes: Buffer): Promise<void>;
  /** Closes the file until it is written to again, so that many files being written hold few descriptors. */
  release(): Promise<void>;
  /** Makes the complete file visible under its name, replacing any file of that name. */
  commit(): Promise<void>;
  discard(): Promise<void>;
}

const PARTIAL_SUFFIX = '.partial';

/** Syncs a directory so that a rename in it survives a crash; not every file system allows it. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  await handle?.sync().catch(() => undefined);
  await handle?.close();
}

export class OutputDirectory {
  /** Temporary files not yet committed or discarded, for removal when the process is interrupted. */
  private readonly unfinished = new Set<string>();

  constructor(readonly dir: string) {}

  async create(name: string): Promise<OutputFile> {
    const path = join(this.dir, name);
    const tempPath = join(this.dir, `.${name}.${randomBytes(6).toString('hex')}${PARTIAL_SUFFIX}`);
    this.unfinished.add(tempPath);
    let handle: FileHandle | undefined;
    try {
      handle = await open(tempPath, 'wx');
    } catch (error) {
      this.unfinished.delete(tempPath);
      throw error;
    }
    const opened = async () => (handle ??= await open(tempPath, 'a'));
    const writeAll = async (bytes: Buffer) => {
      const target = await opened();
      for (let offset = 0; offset < bytes.length;) offset += (await target.write(bytes, offset)).bytesWritten;
    };
    const finish = () => this.unfinished.delete(tempPath);
    const file: OutputFile = {
      path,
      size: 0,
      appendFrom: async (chunks, size, source) => {
        if (size === 0) return;
        let copied = 0;
        for await (const chunk of chunks) {
          await writeAll(chunk);
          copied += chunk.length;
        }
        if (copied !== size) throw new Error(`${source} changed while it was copied: ${copied} of ${size} bytes`);
        file.size += size;
      },
      append: async (bytes) => {
        await writeAll(bytes);
        file.size += bytes.length;
      },
      release: async () => {
        const open = handle;
        handle = undefined;
        await open?.close();
      },
      commit: async () => {
        const target = await opened();
        await target.sync();
        await target.close();
        handle = undefined;
        await rename(tempPath, path);
        finish();
        await syncDirectory(this.dir);
      },
      discard: async () => {
        await handle?.close().catch(() => undefined);
        handle = undefined;
        await rm(tempPath, { force: true });
        finish();
      },
    };
    return file;
  }

  /** Removes every unfinished temporary file at once; safe to call from a signal handler. */
  removeUnfinishedSync(): void {
    for (const tempPath of this.unfinished) rmSync(tempPath, { force: true });
    this.unfinished.clear();
  }
}
