#!/usr/bin/env node
/**
 * The `deltakit` command. Each sub-command lives in ./commands/<name>.ts and exports
 * `register(program)`; this file only wires them together and turns errors into one line.
 */
import { Command, CommanderError } from 'commander';
import { DeltakitError } from '../core/errors.js';
import { COMMANDS } from './commands/index.js';
import { VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('deltakit')
    .description('Real-time recurrent network inference at the edge: delta networks, fixed point, accelerator simulation.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Run the CLI on argv (without node and script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit through here with code 0; usage errors were already printed.
      return e.exitCode;
    }
    if (e instanceof DeltakitError) {
      process.stderr.write(`deltakit: ${e.code}: ${e.message}\n`);
      return 1;
    }
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    process.stderr.write(`deltakit: internal error: ${msg}\n`);
    return 2;
  }
}

// Run when executed directly (the `bin` entry), not when imported by tests.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const self = fileURLToPath(import.meta.url);
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(self)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
