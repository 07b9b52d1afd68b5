// When the kernel may keep the pages it cached of a file at an open: only when they can only be of
// the version opened. Pages get into the cache only through reads, of whatever version the reading
// handle was opened at, and an open answered without keeping them drops them, once the kernel has
// that answer (it gives up on the open of a reader killed while it waited, and never sees it).
import t from 'tap';
import { PageCacheVersions } from '../src/fs/kernel-cache.js';

const PATH = '/shop/web-0/app/2026-11-30/10.log';
const LIVE = { size: 1000, mtimeMs: 1_000 };
const GROWN = { size: 1200, mtimeMs: 2_000 };
const SEALED = { size: 1200, mtimeMs: 3_600_000 };

t.test('a file read once keeps its pages at the next open of the same version', async (t) => {
  const pages = new PageCacheVersions();
  t.equal(pages.opened(1, PATH, SEALED), false, 'nothing known: the first open drops the pages');
  pages.read(1);
  pages.released(1);
  t.equal(pages.opened(2, PATH, SEALED), true);
  pages.released(2);
  t.equal(pages.opened(3, PATH, SEALED), true, 'an open that kept them, then released, keeps knowing');
  pages.released(3);
  t.equal(pages.opened(4, '/other.log', SEALED), false, 'another path knows nothing');
  t.equal(pages.opened(5, PATH, undefined), false, 'a file of no version (the stats file) never keeps');
});

t.test('a new version drops the pages: the live hour grown, then sealed at the same size', async (t) => {
  const pages = new PageCacheVersions();
  pages.opened(1, PATH, LIVE);
  pages.released(1);
  t.equal(pages.opened(2, PATH, GROWN), false, 'grown');
  pages.released(2);
  t.equal(pages.opened(3, PATH, SEALED), false, 'sealed: the same size, another mtime');
  pages.released(3);
  t.equal(pages.opened(4, PATH, SEALED), true);
});

t.test('an open the kernel never saw answered does not count', async (t) => {
  const pages = new PageCacheVersions();
  pages.opened(1, PATH, GROWN);
  pages.read(1);
  pages.released(1);
  // The reader is killed while its open waits for the hour to be sealed: never read, never released.
  t.equal(pages.opened(2, PATH, SEALED), false);
  t.equal(pages.opened(3, PATH, SEALED), false, 'the pages are still those of the grown live hour');
  pages.read(3);
  pages.released(3);
  t.equal(pages.opened(4, PATH, SEALED), true, 'until an open that dropped them was seen');
});

t.test('an abandoned open, released by the daemon itself, neither counts nor holds back others', async (t) => {
  const pages = new PageCacheVersions();
  pages.opened(1, PATH, GROWN);
  pages.read(1);
  pages.released(1);
  pages.opened(2, PATH, SEALED); // the kernel gave up on this open; the binding hands its handle back
  pages.abandoned(2);
  t.equal(pages.opened(3, PATH, SEALED), false, 'the pages are still those of the grown live hour');
  pages.read(3);
  pages.released(3);
  t.equal(pages.opened(4, PATH, SEALED), true, 'an open that dropped them was seen');
  pages.released(4);
  pages.opened(5, PATH, GROWN); // abandoned too: no handle of another version is left open
  pages.abandoned(5);
  t.equal(pages.opened(6, PATH, SEALED), true, 'a forgotten handle of another version does not drop the pages');
});

t.test('a handle of the version before reading on mixes the pages', async (t) => {
  const pages = new PageCacheVersions();
  pages.opened(1, PATH, GROWN); // a slow reader of the live hour
  pages.read(1);
  t.equal(pages.opened(2, PATH, SEALED), false, 'a handle of another version is open');
  pages.read(2);
  pages.read(1); // the live hour's reader reads on, into the same page cache
  pages.released(2);
  t.equal(pages.opened(3, PATH, SEALED), false, 'the live reader is still open');
  pages.read(1);
  pages.released(1);
  pages.read(3);
  pages.released(3);
  t.equal(pages.opened(4, PATH, SEALED), false, 'the live reader read after that open was answered');
  pages.read(4);
  pages.released(4);
  t.equal(pages.opened(5, PATH, SEALED), true, 'an open with no other version around dropped them');
});

t.test('handles are forgotten when released, so their numbers can come back', async (t) => {
  const pages = new PageCacheVersions();
  pages.opened(1, PATH, LIVE);
  pages.released(1);
  pages.released(1);
  pages.read(1);
  t.equal(pages.opened(1, PATH, LIVE), true);
  pages.read(99); // a handle it never saw opened (an open before the mount's cache was on)
});
