// What the daemon is asked to run: its mounts, each with its checked options, and the settings that
// belong to the whole process. The command line builds it (src/cli/mount-config.ts).
import type { MountOptions } from './mount.js';

export interface MetricsOptions {
  port: number;
  host: string;
}

/** What belongs to the daemon rather than to one mount. */
export interface ProcessOptions {
  logLevel: string;
  metrics?: MetricsOptions;
}

export interface PlannedMount {
  /** The config file's name for it, or its mountpoint; labels its logs and metrics. */
  name: string;
  options: MountOptions;
}

export interface MountPlan {
  mounts: PlannedMount[];
  process: ProcessOptions;
}
