// What every bench measures: how long a piece of work took, and a process's peak memory.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** Milliseconds `work` took. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The peak resident set size of a running process, in MiB (VmHWM). */
export async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** The CPU time a running process has used so far (user and system, its own threads), in ms. */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime is the 12th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

/** CPU time of the whole machine so far, busy and idle (ms, from /proc/stat). */
export async function machineCpuMs(): Promise<{ busy: number; idle: number }> {
  const [, ...ticks] = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = ticks.map(Number);
  const ms = (count: number) => (count * 1000) / USER_HZ;
  return { busy: ms(user + nice + system + irq + softirq + steal), idle: ms(idle + iowait) };
}

/**
 * Waits until the files earlier samples wrote are on disk: a cold read writes the hour (about 1 GiB
 * for the big one) to the cache, and its writeback must not run into the next sample. (Four cold
 * reads one after the other took 7.6, 9.4, 11.4 and 11.6 s; with this, 7.6, 7.3, 10.2 and 11.0 s:
 * the writeback is not all of what slows later samples on this machine.)
 */
export async function settleWrites(): Promise<void> {
  await new Promise<void>((resolve, reject) => execFile('sync', (error) => (error ? reject(error) : resolve())));
}

/** Milliseconds `work` took, once the writes of the samples before it are on disk. */
export async function settledTimed(work: () => Promise<unknown>): Promise<number> {
  await settleWrites();
  return timed(work);
}
