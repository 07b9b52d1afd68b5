// A process that shares a disk cache with a test: it opens the cache at argv[2] (key argv[3]),
// starts a new hour file of hour argv[4] and writes into it, says `writing` on stdout, and waits,
// its temporary file open, until it is killed; on stdin's `close` it closes the cache and exits.
import { DiskCache } from '../../src/store/disk-cache.js';

const [dir = '', key = '', hour = '0'] = process.argv.slice(2);
const cache = await DiskCache.open(dir, key, 1 << 20);
const writer = await cache.createHour({
  ref: { namespace: 'shop', pod: 'web-1', container: 'app' },
  day: '2026-11-25',
  hour: Number(hour),
});
await writer.write(Buffer.from('half of an hour\n'));
process.stdout.write('writing\n');
process.stdin.on('data', (data: Buffer) => {
  if (data.toString().trim() === 'close') void cache.close().then(() => process.exit(0));
});
