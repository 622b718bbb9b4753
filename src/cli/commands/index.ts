/**
 * Every sub-command of the CLI, in the order `deltakit --help` lists them.
 * Add a command: write ./<name>.ts exporting `register(program: Command)`, import it here.
 */
import type { Command } from 'commander';
import { register as convert } from './convert.js';
import { register as data } from './data.js';
import { register as demo } from './demo.js';
import { register as edgedrnn } from './edgedrnn.js';
import { register as exportCmd } from './export.js';
import { register as info } from './info.js';
import { register as quantize } from './quantize.js';
import { register as run } from './run.js';
import { register as listen } from './listen.js';
import { register as train } from './train.js';
import { register as tune } from './tune.js';
import { register as prune } from './prune.js';
import { register as compress } from './compress.js';
import { register as sim } from './sim.js';
import { register as sweep } from './sweep.js';
import { register as evaluate } from './evaluate.js';
import { register as kws } from './kws.js';

export type Registrar = (program: Command) => void;

export const COMMANDS: Registrar[] = [
  demo,
  run,
  listen,
  info,
  convert,
  quantize,
  edgedrnn,
  exportCmd,
  data,
  train,
  tune,
  prune,
  compress,
  sim,
  sweep,
  evaluate,
  kws,
];
