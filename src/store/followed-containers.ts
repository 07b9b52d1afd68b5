// The containers readers have an hour of open. While any is open, a refresh sweeps their scopes
// together, so that one query serves every followed container of the round.
import type { SweepScope } from '../bigquery/query-builder.js';
import type { ContainerRef } from '../model/log-path.js';

export class FollowedContainers {
  /** By `namespace/pod/container`, with how many readers have an hour of it open. */
  private readonly followed = new Map<string, { ref: ContainerRef; readers: number }>();

  follow(ref: ContainerRef): void {
    const key = `${ref.namespace}/${ref.pod}/${ref.container}`;
    const found = this.followed.get(key) ?? { ref, readers: 0 };
    found.readers++;
    this.followed.set(key, found);
  }

  unfollow(ref: ContainerRef): void {
    const key = `${ref.namespace}/${ref.pod}/${ref.container}`;
    const found = this.followed.get(key);
    if (found && --found.readers <= 0) this.followed.delete(key);
  }

  /** `own` widened by the namespaces of every followed container that `scopeOf` sweeps the same way. */
  refreshScope(own: SweepScope, scopeOf: (ref: ContainerRef) => SweepScope): SweepScope {
    if (own.namespaces === undefined) return own;
    const namespaces = new Set(own.namespaces);
    for (const { ref: other } of this.followed.values()) {
      const scope = scopeOf(other);
      if (scope.container !== own.container || scope.namespaces === undefined) continue;
      for (const namespace of scope.namespaces) namespaces.add(namespace);
    }
    return { ...own, namespaces: [...namespaces].sort() };
  }
}
