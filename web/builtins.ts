/**
 * The built-in models embedded in the bundle by web/build.ts (only those whose files exist):
 * the page's default model and its speech models' selector.
 */
import { decodeModelFile, type Model } from '../src/index.js';
import type { BuiltinTask } from '../src/train/builtin.js';

export interface BuiltinModelFile {
  task: BuiltinTask;
  /** File name under models/. */
  file: string;
  base64: string;
}

declare const __DELTAKIT_BUILTINS__: BuiltinModelFile[] | undefined;
/** The two-stage keywords' models: the keyword-stream model (first stage) and its verifier. */
export interface KeywordStreamFiles {
  file: string;
  base64: string;
  verifier: { file: string; base64: string };
}

declare const __DELTAKIT_KWS_STREAMS__: KeywordStreamFiles | null | undefined;

/** The selector's value for the keyword-stream model verified by the built-in verifier. */
export const TWO_STAGE_KEYWORDS = 'keywords-two-stage';
export const TWO_STAGE_LABEL = 'keywords in two stages (the keyword-stream model proposes, the keyword verifier confirms)';

/** The embedded two-stage keyword models (stream model and verifier), or null. */
export function keywordStreamFile(): KeywordStreamFiles | null {
  return typeof __DELTAKIT_KWS_STREAMS__ === 'undefined' ? null : __DELTAKIT_KWS_STREAMS__;
}

/** What the selector shows for each task. */
export const TASK_LABELS: Record<BuiltinTask, string> = {
  digits: 'isolated digits (one word per voiced segment)',
  'digit-strings': 'connected digit strings (CTC, words as they come)',
  keywords: 'keywords (yes/no/up/down/…, the keyword spotter on every frame)',
};

/** The embedded built-in model files, in task order (digits first). */
export function builtinFiles(): BuiltinModelFile[] {
  return typeof __DELTAKIT_BUILTINS__ === 'undefined' ? [] : __DELTAKIT_BUILTINS__;
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Decode an embedded built-in model. */
export function decodeBuiltin(f: Pick<BuiltinModelFile, 'base64'>): Model {
  return decodeModelFile(fromBase64(f.base64)).model;
}
