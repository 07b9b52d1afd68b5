// GoogleSQL's own analyzer (ZetaSQL's local service, as shipped by @fivetrandevelopers/zetasql), run as
// a server on a loopback port, so tests can check statements for name resolution and types against
// the tables they read, not just for syntax. One analyzer per process: the package's client is a
// singleton.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { TypeKind, ZetaSQLClient, type AnalyzeRequest } from '@fivetrandevelopers/zetasql';
import type { ParamType } from '../../src/bigquery/query-builder.js';

type AnalyzerOptions = NonNullable<AnalyzeRequest['options']>;
type LanguageOptions = NonNullable<AnalyzerOptions['languageOptions']>;
type SimpleCatalog = NonNullable<AnalyzeRequest['simpleCatalog']>;
type SimpleTable = NonNullable<SimpleCatalog['table']>[number];
type SimpleColumn = NonNullable<SimpleTable['column']>[number];
type TypeProto = NonNullable<SimpleColumn['type']>;
type RegisteredId = NonNullable<AnalyzeRequest['registeredCatalogId']>;

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 20_000;
const START_ATTEMPTS = 3;

/** A column as BigQuery's REST API describes it (`schema.fields`). */
export interface RestField {
  name?: string;
  type?: string;
  mode?: string;
  fields?: RestField[];
}

/**
 * A table of the catalog, by the name statements use: `project.dataset.table`, the whole path in one
 * pair of backticks. A name ending in `*` is a wildcard table and has the `_TABLE_SUFFIX` pseudo-column.
 */
export interface CatalogTable {
  name: string;
  fields: readonly RestField[];
}

/** A column of a statement's result, its type as GoogleSQL writes it (`STRING`, `ARRAY<INT64>`). */
export interface OutputColumn {
  name: string;
  type: string;
}

export type Analysis = { ok: true; columns: OutputColumn[] } | { ok: false; error: string };

const SCALAR_KINDS: Readonly<Record<string, TypeProto['typeKind']>> = {
  STRING: 'TYPE_STRING',
  BYTES: 'TYPE_BYTES',
  INTEGER: 'TYPE_INT64',
  INT64: 'TYPE_INT64',
  FLOAT: 'TYPE_DOUBLE',
  FLOAT64: 'TYPE_DOUBLE',
  NUMERIC: 'TYPE_NUMERIC',
  BIGNUMERIC: 'TYPE_BIGNUMERIC',
  BOOLEAN: 'TYPE_BOOL',
  BOOL: 'TYPE_BOOL',
  TIMESTAMP: 'TYPE_TIMESTAMP',
  DATE: 'TYPE_DATE',
  TIME: 'TYPE_TIME',
  DATETIME: 'TYPE_DATETIME',
  GEOGRAPHY: 'TYPE_GEOGRAPHY',
  JSON: 'TYPE_JSON',
  INTERVAL: 'TYPE_INTERVAL',
};

/** A REST field's type: RECORD/STRUCT as STRUCT, mode REPEATED as ARRAY. */
export function fieldType(field: RestField): TypeProto {
  const type = (field.type ?? '').toUpperCase();
  let element: TypeProto;
  if (type === 'RECORD' || type === 'STRUCT') {
    element = {
      typeKind: 'TYPE_STRUCT',
      structType: {
        field: (field.fields ?? []).map((inner) => ({ fieldName: inner.name, fieldType: fieldType(inner) })),
      },
    };
  } else {
    const typeKind = SCALAR_KINDS[type];
    if (typeKind === undefined) throw new Error(`column ${field.name ?? '?'}: no GoogleSQL type for ${type}`);
    element = { typeKind };
  }
  return field.mode?.toUpperCase() === 'REPEATED'
    ? { typeKind: 'TYPE_ARRAY', arrayType: { elementType: element } }
    : element;
}

/** A query parameter's type as the query builders declare it. */
export function parameterType(type: ParamType): TypeProto {
  if (Array.isArray(type)) return { typeKind: 'TYPE_ARRAY', arrayType: { elementType: parameterType(type[0]) } };
  switch (type) {
    case 'STRING':
      return { typeKind: 'TYPE_STRING' };
    case 'TIMESTAMP':
      return { typeKind: 'TYPE_TIMESTAMP' };
    case 'INT64':
      return { typeKind: 'TYPE_INT64' };
  }
}

function simpleTable(name: string, table: CatalogTable, serializationId: number): SimpleTable {
  const columns: SimpleColumn[] = table.fields.map((field) => ({ name: field.name, type: fieldType(field) }));
  if (table.name.endsWith('*')) {
    columns.push({ name: '_TABLE_SUFFIX', type: { typeKind: 'TYPE_STRING' }, isPseudoColumn: true });
  }
  return { name, fullName: table.name, serializationId, column: columns };
}

/**
 * Every table under its whole path as one name (how a statement writes `` `project.dataset.table` ``),
 * and also in nested catalogs project > dataset > table, for paths written in parts.
 */
function catalogOf(tables: readonly CatalogTable[], languageOptions: LanguageOptions): SimpleCatalog {
  const projects = new Map<string, Map<string, SimpleTable[]>>();
  let serializationId = 0;
  const topLevel = tables.map((table) => {
    const parts = table.name.split('.');
    if (parts.length >= 3) {
      const tableId = parts.pop() ?? '';
      const datasetId = parts.pop() ?? '';
      const projectId = parts.join('.');
      const datasets = projects.get(projectId) ?? new Map<string, SimpleTable[]>();
      projects.set(projectId, datasets);
      datasets.set(datasetId, [...(datasets.get(datasetId) ?? []), simpleTable(tableId, table, ++serializationId)]);
    }
    return simpleTable(table.name, table, ++serializationId);
  });
  return {
    name: 'bigquery',
    builtinFunctionOptions: { languageOptions },
    table: topLevel,
    catalog: [...projects].map(([projectId, datasets]) => ({
      name: projectId,
      catalog: [...datasets].map(([datasetId, datasetTables]) => ({ name: datasetId, table: datasetTables })),
    })),
  };
}

const KIND_NAMES = new Map<number, string>(
  Object.entries(TypeKind).map(([name, kind]) => [kind, name.replace(/^TYPE_/, '')]),
);
const EXTERNAL_NAMES: Readonly<Record<string, string>> = { DOUBLE: 'FLOAT64', FLOAT: 'FLOAT32' };

interface ResolvedType {
  typeKind: number | string;
  arrayType?: { elementType: ResolvedType | null } | null;
  structType?: { field: { fieldName: string; fieldType: ResolvedType | null }[] } | null;
}

function typeName(type: ResolvedType | null | undefined): string {
  if (!type) return '?';
  const kind = typeof type.typeKind === 'number' ? (KIND_NAMES.get(type.typeKind) ?? '?') : type.typeKind;
  const name = kind.replace(/^TYPE_/, '');
  if (name === 'ARRAY') return `ARRAY<${typeName(type.arrayType?.elementType)}>`;
  if (name === 'STRUCT') {
    const fields = (type.structType?.field ?? []).map((field) => `${field.fieldName} ${typeName(field.fieldType)}`);
    return `STRUCT<${fields.join(', ')}>`;
  }
  return EXTERNAL_NAMES[name] ?? name;
}

interface GrpcError {
  code: number;
  details: string;
}

function isGrpcError(error: unknown): error is GrpcError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as GrpcError).code === 'number' &&
    typeof (error as GrpcError).details === 'string'
  );
}

/** gRPC status codes the service answers a statement it rejects with. */
const INVALID_ARGUMENT = 3;
const UNIMPLEMENTED = 12;

/** Tables registered once with the server; statements are analyzed against them. */
export class Catalog {
  constructor(
    private readonly id: RegisteredId,
    private readonly options: AnalyzerOptions,
  ) {}

  /**
   * Resolves and type-checks one statement, with its named parameters declared as the builder typed
   * them. An error of the analyzer is the result; trouble reaching it throws.
   */
  async analyze(sql: string, params: Readonly<Record<string, ParamType>>): Promise<Analysis> {
    const queryParameters = Object.entries(params).map(([name, type]) => ({ name, type: parameterType(type) }));
    try {
      const response = await ZetaSQLClient.getInstance().analyze({
        registeredCatalogId: this.id,
        sqlStatement: sql,
        options: { ...this.options, queryParameters },
      });
      const output = response?.resolvedStatement?.resolvedQueryStmtNode?.outputColumnList ?? [];
      return {
        ok: true,
        columns: output.map((column) => ({ name: column.name, type: typeName(column.column?.type) })),
      };
    } catch (error) {
      if (isGrpcError(error) && (error.code === INVALID_ARGUMENT || error.code === UNIMPLEMENTED)) {
        return { ok: false, error: error.details };
      }
      throw error;
    }
  }
}

function serverBinary(): string {
  if (!(process.platform === 'linux' || process.platform === 'darwin') || !['x64', 'arm64'].includes(process.arch)) {
    throw new Error(`no GoogleSQL analyzer binary for ${process.platform}-${process.arch}`);
  }
  const lib = path.dirname(createRequire(import.meta.url).resolve('@fivetrandevelopers/zetasql'));
  const name = `remote_server${process.arch === 'arm64' ? '_arm' : ''}${process.platform === 'linux' ? '.so' : ''}`;
  return path.join(lib, 'zetasql', name);
}

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      probe.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class GoogleSqlAnalyzer {
  private readonly killOnExit = () => this.server.kill('SIGKILL');
  private stopped = false;

  private constructor(
    private readonly server: ChildProcess,
    /** Every language feature the analyzer calls finished, in the product mode BigQuery uses. */
    readonly languageOptions: LanguageOptions,
    /** The milliseconds from spawning the server to its first answer. */
    readonly startupMs: number,
  ) {
    process.once('exit', this.killOnExit);
  }

  /**
   * Starts the server on a free port of 127.0.0.1 (another free port if that one was taken
   * meanwhile: the server dies when it cannot bind) and connects to it.
   */
  static async start(): Promise<GoogleSqlAnalyzer> {
    const binary = serverBinary();
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const startedAt = Date.now();
      const port = await freePort();
      const server = spawn(binary, [HOST, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
      server.stdout?.on('data', keep);
      server.stderr?.on('data', keep);
      let exited = false;
      server.once('exit', () => (exited = true));
      server.once('error', (error) => {
        exited = true;
        output += `\n${error.message}`;
      });
      try {
        while (!(await accepts(port))) {
          if (exited) throw new Error(`the analyzer server exited: ${output.trim()}`);
          if (Date.now() - startedAt > START_TIMEOUT_MS)
            throw new Error(`the analyzer server did not listen: ${output}`);
          await delay(20);
        }
        // The client connects to the HOST of its class; make that the loopback address served on.
        if (!Reflect.set(ZetaSQLClient, 'HOST', HOST)) throw new Error('cannot point the ZetaSQL client at 127.0.0.1');
        ZetaSQLClient.init(port);
        const maximum = await ZetaSQLClient.getInstance().getLanguageOptions({ maximumFeatures: true });
        if (!maximum) throw new Error('the analyzer server sent no language options');
        const languageOptions: LanguageOptions = {
          ...maximum,
          productMode: 'PRODUCT_EXTERNAL',
          supportedStatementKinds: ['RESOLVED_QUERY_STMT'],
        };
        return new GoogleSqlAnalyzer(server, languageOptions, Date.now() - startedAt);
      } catch (error) {
        lastError = error as Error;
        ZetaSQLClient.API?.close();
        server.kill('SIGKILL');
      }
    }
    throw lastError ?? new Error('the analyzer server did not start');
  }

  /** Registers tables (with GoogleSQL's built-in functions) for statements to be analyzed against. */
  async catalog(tables: readonly CatalogTable[]): Promise<Catalog> {
    const response = await ZetaSQLClient.getInstance().registerCatalog({
      simpleCatalog: catalogOf(tables, this.languageOptions),
    });
    if (!response) throw new Error('the analyzer server registered no catalog');
    return new Catalog(response.registeredId, {
      languageOptions: this.languageOptions,
      errorMessageMode: 'ERROR_MESSAGE_ONE_LINE',
      parameterMode: 'PARAMETER_NAMED',
      allowUndeclaredParameters: false,
      defaultTimezone: 'UTC',
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    ZetaSQLClient.API.close();
    process.removeListener('exit', this.killOnExit);
    if (this.server.exitCode !== null || this.server.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.server.once('exit', () => resolve()));
    this.server.kill('SIGTERM');
    const timer = setTimeout(() => this.server.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}
