// DuckDB, with its own C++ Parquet reader, as the tests' reader that is not ours: one in-memory
// database per test file, opened before the file's tests and closed after them.
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";
import { afterAll, beforeAll } from "vitest";

export type Query = (sql: string) => Promise<Record<string, unknown>[]>;

/** Opens an in-memory DuckDB around the calling file's (or describe block's) tests; returns its query function. */
export function useDuckDB(): Query {
  let db: DuckDBInstance | undefined;
  let duck: DuckDBConnection | undefined;
  beforeAll(async () => {
    db = await DuckDBInstance.create(":memory:");
    duck = await db.connect();
  });
  afterAll(() => {
    duck?.closeSync();
    db?.closeSync();
  });
  return async (sql) => {
    if (!duck) throw new Error("DuckDB is not open: query it from a test or a hook that runs after useDuckDB()'s");
    return (await duck.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
  };
}
