// Tells systemd (Type=notify) when the mounts are up and when the daemon is stopping. systemd-notify
// is used rather than the notify socket itself: Node has no unix datagram sockets. Run by root, it
// sends with this process's pid (--pid), which systemd attributes to the service; run by another
// user it sends its own, and systemd 252 (Debian 12) drops the message if that child has already exited,
// so contrib/bqlogfs@.service (not root) waits for the mount with ExecStartPost instead.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Logger } from 'pino';

const run = promisify(execFile);
const NOTIFY_TIMEOUT_MS = 5_000;

async function notify(args: string[], log: Logger): Promise<void> {
  if (!process.env.NOTIFY_SOCKET) return;
  try {
    await run('systemd-notify', [`--pid=${process.pid}`, ...args], { timeout: NOTIFY_TIMEOUT_MS });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT') {
      log.warn('NOTIFY_SOCKET is set but systemd-notify is not on PATH: systemd will not learn that the mount is up');
    } else {
      log.warn({ err: message }, 'systemd-notify failed');
    }
  }
}

export function notifyReady(log: Logger): Promise<void> {
  return notify(['--ready'], log);
}

export function notifyStopping(log: Logger): Promise<void> {
  return notify(['STOPPING=1'], log);
}
