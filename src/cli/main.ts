#!/usr/bin/env node
/**
 * The `deltakit` command. Each sub-command lives in ./commands/<name>.ts and exports
 * `register(program)`; this file only wires them together and turns every error into one line,
 * `deltakit: CODE: message`: option-parser errors too (E_OPTION), never a stack trace.
 */
import { Command, CommanderError } from 'commander';
import { DeltakitError } from '../core/errors.js';
import { onPendingTempFiles, takePendingTempFiles } from '../core/files.js';
import { COMMANDS } from './commands/index.js';
import { VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('deltakit')
    .description('Real-time recurrent network inference at the edge: delta networks, fixed point, accelerator simulation.')
    .version(VERSION)
    // Parser errors are printed by main() as one coded line; help and version still print.
    .configureOutput({ outputError: () => undefined })
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Commander exits that are not errors (help, version) or that already printed what they mean. */
const COMMANDER_NON_ERRORS = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version', 'commander.executeSubCommandAsync']);

/**
 * A message as one printable line: messages may quote bytes of the user's file (a JSON parser's
 * excerpt of a binary file, a malformed line of a text file), whose newlines, NULs and other
 * control characters would otherwise break the one-line error or reach the terminal raw.
 */
export function printable(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? ' ' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Run the CLI on argv (without node and script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (COMMANDER_NON_ERRORS.has(e.code)) return e.exitCode;
      // "error: unknown option '--x'" -> deltakit: E_OPTION: unknown option '--x' (...)
      const msg = e.message.replace(/^error:\s*/, '').split('\n')[0];
      const cmd = argv.find((a) => !a.startsWith('-'));
      const known = program.commands.some((c) => c.name() === cmd);
      process.stderr.write(`deltakit: E_OPTION: ${printable(msg)} (see deltakit ${known ? `${cmd} ` : ''}--help)\n`);
      return 1;
    }
    if (e instanceof DeltakitError) {
      process.stderr.write(`deltakit: ${e.code}: ${printable(e.message)}\n`);
      return 1;
    }
    // A bug in deltakit, not in the input: one line, the stack only on request.
    const msg = e instanceof Error ? e.message : String(e);
    const stack = process.env['DELTAKIT_DEBUG'] && e instanceof Error ? `\n${e.stack}` : ' (set DELTAKIT_DEBUG=1 to see where)';
    process.stderr.write(`deltakit: internal error: ${printable(msg)}${stack}\n`);
    return 2;
  }
}

/**
 * Ctrl-C while a file is being written (and no command handles Ctrl-C itself: train, tune and
 * sweep checkpoint first): remove the temporary files, say so in one coded line, exit 1. The
 * handler is installed only while a write is pending, so Ctrl-C during a long computation still
 * stops the process at once (nothing is left behind then).
 */
function onSigint(): void {
  if (process.listenerCount('SIGINT') > 1) return; // a command is handling it
  for (const tmp of takePendingTempFiles()) rmSync(tmp, { force: true });
  process.stderr.write('deltakit: E_INTERRUPTED: interrupted by Ctrl-C while writing; the partial file was removed\n');
  process.exit(1);
}

// Run when executed directly (the `bin` entry), not when imported by tests.
import { realpathSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const self = fileURLToPath(import.meta.url);
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(self)) {
  onPendingTempFiles((count) => {
    if (count > 0 && !process.listeners('SIGINT').includes(onSigint)) process.on('SIGINT', onSigint);
    if (count === 0) process.off('SIGINT', onSigint);
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
