// GoogleSQL reserved keywords: these pass through to DuckDB as keywords and
// are never treated as column references. Every other bare word that is not a
// function name is an identifier and gets quoted for DuckDB (so column names
// such as `timestamp` or `day` never collide with DuckDB keywords).
export const RESERVED = new Set(
  (
    'ALL AND ANY ARRAY AS ASC ASSERT_ROWS_MODIFIED AT BETWEEN BY CASE CAST COLLATE CONTAINS CREATE ' +
    'CROSS CUBE CURRENT DEFAULT DEFINE DESC DISTINCT ELSE END ENUM ESCAPE EXCEPT EXCLUDE EXISTS ' +
    'EXTRACT FALSE FETCH FOLLOWING FOR FROM FULL GROUP GROUPING GROUPS HASH HAVING IF IGNORE IN ' +
    'INNER INTERSECT INTERVAL INTO IS JOIN LATERAL LEFT LIKE LIMIT LOOKUP MERGE NATURAL NEW NO NOT ' +
    'NULL NULLS OF ON OR ORDER OUTER OVER PARTITION PRECEDING PROTO QUALIFY RANGE RECURSIVE RESPECT ' +
    'RIGHT ROLLUP ROWS SELECT SET SOME STRUCT TABLESAMPLE THEN TO TREAT TRUE UNBOUNDED UNION UNNEST ' +
    'USING WHEN WHERE WINDOW WITH WITHIN'
  ).split(' '),
);

/** Keywords that end the FROM clause (or the WHERE clause) of a SELECT. */
export const CLAUSE_END = new Set([
  'WHERE',
  'GROUP',
  'HAVING',
  'QUALIFY',
  'WINDOW',
  'ORDER',
  'LIMIT',
  'UNION',
  'INTERSECT',
  'EXCEPT',
]);

/** Words that can follow a table path without being its alias. */
export const NOT_AN_ALIAS = new Set([
  ...CLAUSE_END,
  'JOIN',
  'INNER',
  'LEFT',
  'RIGHT',
  'FULL',
  'CROSS',
  'OUTER',
  'ON',
  'USING',
  'TABLESAMPLE',
  'FOR',
  'NATURAL',
  'LATERAL',
]);

/** Reserved words that are nonetheless called like functions. */
export const FUNCTION_KEYWORDS = new Set([
  'IF',
  'ARRAY',
  'STRUCT',
  'EXTRACT',
  'CAST',
  'UNNEST',
  'EXISTS',
  'ANY',
  'SOME',
]);
