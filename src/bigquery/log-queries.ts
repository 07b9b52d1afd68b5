// The questions the store asks BigQuery, as typed values: what is asked (the spec), how statistics
// name it (the label), and the GoogleSQL statement that asks it. A fake warehouse answers from the
// spec; BigQuery answers the statement; conformance tests check that both give the same rows.
import type { LabelRequirement } from '../model/label-selector.js';
import type { ContainerRef } from '../model/log-path.js';
import type { QueryLabel } from '../model/stats.js';
import type { DayName, TimeRange } from '../model/time-model.js';
import {
  containerDaysQuery,
  entriesQuery,
  hoursQuery,
  podDaysQuery,
  sweepQuery,
  type BuiltQuery,
  type LogSource,
  type SweepScope,
} from './query-builder.js';
import { searchQuery, type SearchColumns, type SearchPattern, type SearchScope } from './search-query.js';

/** The entries of one container in a range (part of one day), the requested hour `first` first. */
export interface EntriesSpec {
  kind: 'entries';
  ref: ContainerRef;
  day: DayName;
  range: TimeRange;
  first: TimeRange;
  /** Also severity and labels, for `--format json`. */
  fullEntries: boolean;
}

/** Every container-day with entries in the window, with a bitmask of its hours and the time of its latest entry. */
export interface ListingSpec {
  kind: 'listing';
  window: TimeRange;
  timeZone: string;
}

/** The hours of one container-day that have entries. */
export interface HoursSpec {
  kind: 'hours';
  ref: ContainerRef;
  day: DayName;
  range: TimeRange;
  timeZone: string;
}

/** The days on which each pod of a container has entries in the window. */
export interface PodsSpec {
  kind: 'pods';
  container: string;
  namespace?: string;
  /** Only pods whose labels match (`-l`). */
  labels?: readonly LabelRequirement[];
  window: TimeRange;
  timeZone: string;
}

/** Every entry of the containers in a scope over a range, led by an index of where each container-hour starts. */
export interface SweepSpec {
  kind: 'sweep';
  scope: SweepScope;
  range: TimeRange;
  timeZone: string;
  /** Also severity and labels, for `--format json`. */
  fullEntries: boolean;
}

/** The entries of a window whose text matches a pattern (`bqlogfs grep`). */
export interface SearchSpec {
  kind: 'search';
  scope: SearchScope;
  range: TimeRange;
  pattern: SearchPattern;
  columns: SearchColumns;
}

export type QuerySpec = SweepSpec | EntriesSpec | ListingSpec | HoursSpec | PodsSpec | SearchSpec;

export interface LogQuery {
  spec: QuerySpec;
  /** The source the statement reads, with the mount's namespace and cluster restrictions. */
  source: LogSource;
  label: QueryLabel;
  statement: BuiltQuery;
}

function containerDay(ref: ContainerRef, day: DayName): string {
  return `${ref.namespace}/${ref.pod}/${ref.container}/${day}`;
}

function labelOf(spec: QuerySpec): QueryLabel {
  switch (spec.kind) {
    case 'entries':
    case 'hours':
      return { kind: spec.kind, subject: containerDay(spec.ref, spec.day) };
    case 'listing':
      return { kind: 'listing', subject: '' };
    case 'sweep': {
      const namespaces = spec.scope.namespaces?.join(',') ?? '*';
      const when = `${new Date(spec.range.startMs).toISOString()}/${new Date(spec.range.endMs).toISOString()}`;
      return { kind: 'sweep', subject: `${namespaces}/*/${spec.scope.container ?? '*'}/${when}` };
    }
    case 'pods':
      return { kind: 'pods', subject: `${spec.namespace ?? '*'}/*/${spec.container}` };
    case 'search':
      return { kind: 'search', subject: `${spec.scope.namespace ?? '*'}/*/${spec.scope.container ?? '*'}` };
  }
}

function statementOf(source: LogSource, spec: QuerySpec): BuiltQuery {
  switch (spec.kind) {
    case 'sweep':
      return sweepQuery(source, spec.scope, spec.range, spec.timeZone, spec.fullEntries);
    case 'entries':
      return entriesQuery(source, spec.ref, spec.range, spec.first, spec.fullEntries);
    case 'listing':
      return containerDaysQuery(source, spec.window, spec.timeZone);
    case 'hours':
      return hoursQuery(source, spec.ref, spec.range, spec.timeZone);
    case 'pods': {
      const selection = {
        container: spec.container,
        ...(spec.namespace !== undefined && { namespace: spec.namespace }),
        ...(spec.labels !== undefined && { labels: spec.labels }),
      };
      return podDaysQuery(source, selection, spec.window, spec.timeZone);
    }
    case 'search':
      return searchQuery(source, spec.scope, spec.range, spec.pattern, spec.columns);
  }
}

export function logQuery(source: LogSource, spec: QuerySpec): LogQuery {
  return { spec, source, label: labelOf(spec), statement: statementOf(source, spec) };
}
