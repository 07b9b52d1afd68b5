// The destination table of a query job that names none: like BigQuery, an anonymous table in a
// hidden dataset of the project and location ("_" and hex), named "anon" and hex.
import { createHash } from 'node:crypto';

export interface TableReference {
  projectId: string;
  datasetId: string;
  tableId: string;
}

function hex(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

export function anonymousDestination(projectId: string, location: string, jobId: string): TableReference {
  return {
    projectId,
    datasetId: `_${hex(`${projectId}:${location.toUpperCase()}`)}`,
    tableId: `anon${hex(`${projectId}:${jobId}`)}`,
  };
}
