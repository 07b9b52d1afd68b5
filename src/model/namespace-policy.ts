// Which namespaces a mount exposes (--namespaces, --namespace-regex). The same restriction is
// applied by the path layer, before anything is queried, and inside every SQL statement.

/** Which namespaces a mount shows; both parts must hold when both are given. */
export interface NamespaceRestriction {
  names?: readonly string[];
  /** A regular expression every namespace name must match whole. */
  pattern?: string;
}

export type NamespacePolicy = (namespace: string) => boolean;

export function namespacePolicy(restriction: NamespaceRestriction | undefined): NamespacePolicy {
  const names = restriction?.names && new Set(restriction.names);
  const pattern = restriction?.pattern !== undefined ? new RegExp(`^(?:${restriction.pattern})$`) : undefined;
  return (namespace) => (!names || names.has(namespace)) && (!pattern || pattern.test(namespace));
}
