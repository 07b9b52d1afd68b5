// The path model: turns a path inside the mount into what it names, or rejects it.
// Every component is validated against Kubernetes naming rules here, before anything can be queried.
import { parseDayName, type DayName } from './time-model.js';

export interface ContainerRef {
  namespace: string;
  /** A pod's name, or a workload directory's (`@api`, see `isWorkloadDirectory`). */
  pod: string;
  container: string;
}

export type LogPath =
  | { kind: 'root' }
  | { kind: 'namespace'; namespace: string }
  | { kind: 'pod'; namespace: string; pod: string }
  | { kind: 'container'; ref: ContainerRef }
  | { kind: 'current'; ref: ContainerRef }
  | { kind: 'day'; ref: ContainerRef; day: DayName }
  | { kind: 'hour'; ref: ContainerRef; day: DayName; hour: number };

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HOUR_FILE = /^([01]\d|2[0-3])\.log$/;
/** In each container directory: a symlink to the hour file that is filling now. */
export const CURRENT_LINK = 'current.log';

/** RFC 1123 label, as Kubernetes requires for namespaces and container names. */
export function isDns1123Label(name: string): boolean {
  return name.length <= 63 && DNS1123_LABEL.test(name);
}

/** RFC 1123 subdomain, as Kubernetes requires for pod names. */
export function isDns1123Subdomain(name: string): boolean {
  return name.length <= 253 && name.split('.').every(isDns1123Label);
}

/**
 * A workload directory sits where a pod's would, named `@<controller name>`: pod names are DNS-1123
 * subdomains, which cannot start with `@`, so the two never clash.
 */
export const WORKLOAD_MARK = '@';

/** Whether a pod-level directory name is a workload's (`@api`), whose controller name is then valid. */
export function isWorkloadDirectory(name: string): boolean {
  return name.startsWith(WORKLOAD_MARK) && isDns1123Subdomain(name.slice(WORKLOAD_MARK.length));
}

export function hourFileName(hour: number): string {
  return `${String(hour).padStart(2, '0')}.log`;
}

/** Parses an absolute path as FUSE hands it over; undefined means "no such file". */
export function parseLogPath(path: string): LogPath | undefined {
  if (path === '/') return { kind: 'root' };
  if (!path.startsWith('/') || path.endsWith('/')) return undefined;
  const parts = path.slice(1).split('/');
  if (parts.length > 5) return undefined;
  const [namespace = '', pod, container, day, hourFile] = parts;
  if (!isDns1123Label(namespace)) return undefined;
  if (pod === undefined) return { kind: 'namespace', namespace };
  if (!isDns1123Subdomain(pod) && !isWorkloadDirectory(pod)) return undefined;
  if (container === undefined) return { kind: 'pod', namespace, pod };
  if (!isDns1123Label(container)) return undefined;
  const ref = { namespace, pod, container };
  if (day === undefined) return { kind: 'container', ref };
  if (day === CURRENT_LINK) return hourFile === undefined ? { kind: 'current', ref } : undefined;
  if (parseDayName(day) === undefined) return undefined;
  if (hourFile === undefined) return { kind: 'day', ref, day };
  const hourMatch = HOUR_FILE.exec(hourFile);
  if (!hourMatch) return undefined;
  return { kind: 'hour', ref, day, hour: Number(hourMatch[1]) };
}
