/**
 * A benchmark suite measures something and returns one section of BENCHMARKS.md.
 * bench/run.ts runs every suite listed in bench/suites/index.ts in one process, prints each
 * section as a table and writes BENCHMARKS.md with the machine and the date.
 */
export interface BenchSection {
  /** Section heading in BENCHMARKS.md. */
  title: string;
  /** Column headers of the table. */
  columns: string[];
  /** Rows, already formatted as strings (units in the column headers). */
  rows: string[][];
  /** Free text under the table: targets met or missed, by how much, and why. */
  notes?: string[];
}

export interface BenchContext {
  /** True for a short run (`npm run bench -- --quick`): fewer repetitions, for smoke tests. */
  quick: boolean;
  /** Print progress to stderr. */
  log(msg: string): void;
}

export interface BenchSuite {
  name: string;
  run(ctx: BenchContext): Promise<BenchSection[]>;
}
