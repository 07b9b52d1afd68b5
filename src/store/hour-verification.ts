// Cached hour files this process did not write (restored from a day's manifest) are checked against
// the checksums recorded when they were written before any byte of them is handed out: block by
// block as they are read (checked-reader.ts), or, for a manifest without block checksums, whole on
// their first open. A damaged file is removed and its hour fetched again. A file checked once, or
// written by this process, is read with no check at all, and a final one through a descriptor its
// readers share (shared-readers.ts).
import type { Logger } from 'pino';
import type { MountStats } from '../model/stats.js';
import { hourFileName } from '../model/log-path.js';
import { CheckedReader } from './checked-reader.js';
import type { HourFile } from './day-state.js';
import { dayKey, type DiskCache, type HourReader } from './disk-cache.js';
import { SharedReaders } from './shared-readers.js';

export class HourVerification {
  /** The refetch of each file found damaged, shared by every reader that found it. */
  private readonly replacements = new WeakMap<HourFile, Promise<HourFile | undefined>>();
  private readonly shared = new SharedReaders<HourFile>();

  constructor(
    private readonly cache: DiskCache,
    /** Forgets a damaged final hour and fetches it again; undefined when it has no entries now. */
    private readonly fetchAgain: (damaged: HourFile) => Promise<HourFile | undefined>,
    /** Told of each file found to match its checksums. */
    private readonly stats: Pick<MountStats, 'cacheFileChecked'>,
    private readonly log?: Logger,
  ) {}

  /** Opens the file for reading; the returned reader is of a file whose bytes match its checksum. */
  async open(file: HourFile): Promise<HourReader> {
    if (file.verified && file.final) return this.shared.open(file, () => this.cache.openForReading(file));
    if (file.verified) return this.cache.openForReading(file);
    if (file.blockChecksums !== undefined) {
      const reopen = async () => {
        const again = await this.replace(file);
        // A final hour fetched again has the same bytes; anything else would mix two versions.
        if (again.size !== file.size)
          throw new Error(`the hour fetched again in place of a damaged file has another size`);
        return this.cache.openForReading(again);
      };
      const verified = () => this.stats.cacheFileChecked();
      return new CheckedReader(await this.cache.openForReading(file), file, reopen, verified);
    }
    const reader = await this.openChecked(file);
    if (reader) return reader;
    return this.cache.openForReading(await this.replace(file));
  }

  /** Closes the descriptors kept open for readers to come. */
  closeIdle(): Promise<void> {
    return this.shared.closeIdle();
  }

  /** The file when its bytes match its checksum, else the hour fetched again. */
  async check(file: HourFile): Promise<HourFile> {
    if (file.verified) return file;
    const reader = await this.openChecked(file);
    if (!reader) return this.replace(file);
    await reader.close();
    return file;
  }

  private async openChecked(file: HourFile): Promise<HourReader | undefined> {
    if (file.checksum === undefined) return undefined;
    const reader = await this.cache.openVerified(file, file.checksum);
    if (reader && !file.verified) {
      file.verified = true;
      this.stats.cacheFileChecked();
    }
    return reader;
  }

  private async replace(file: HourFile): Promise<HourFile> {
    const path = `${dayKey(file.ref, file.day)}/${hourFileName(file.hour)}`;
    let replacement = this.replacements.get(file);
    if (!replacement) {
      this.log?.warn(
        { path, size: file.size },
        'a cached hour file does not match the checksum recorded when it was written; removed it, fetching it again',
      );
      replacement = this.cache.removeHour(file).then(() => this.fetchAgain(file));
      this.replacements.set(file, replacement);
    }
    const again = await replacement;
    if (!again?.verified) throw new Error(`${path} was damaged in the cache and could not be fetched again`);
    return again;
  }
}
