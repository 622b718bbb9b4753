/**
 * A second speech synthesiser: Debian's Festival with the diphone voice `voice_ked_diphone`
 * (package festvox-kdlpc16k, an American male speaker, 16 kHz). A model that has only heard
 * espeak-ng learns espeak-ng's formant synthesis; a diphone voice (concatenated recordings of a
 * human) is a very different rendering of the same words.
 *
 * One Festival voice is one speaker, so its *variants* play the role of voices: the mean of the
 * intonation model's F0 target (`int_lr_params target_f0_mean`) names a variant (`ked-f0-120`),
 * and every rendition draws its own F0 spread and duration stretch (`Duration_Stretch`).
 *
 * Many utterances are rendered by one Festival process (`festival -b script.scm`): starting
 * Festival costs far more than synthesising a digit. Festival, like `text2wave`, exits 0 even when
 * it wrote nothing (an unknown voice, a full disk), so every output file is checked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, fail } from '../core/errors.js';
import { parseWav, type Audio } from './wav.js';

const FESTIVAL = process.env['DELTAKIT_FESTIVAL'] ?? 'festival';
/** The Festival voice deltakit speaks with (Debian package festvox-kdlpc16k). */
export const FESTIVAL_VOICE = 'ked_diphone';

/** How Festival speaks one utterance. */
export interface FestivalOptions {
  /** Mean F0 of the intonation targets in Hz (ked's own: 105). */
  f0Mean: number;
  /** Standard deviation of the F0 targets in Hz (ked's own: 15). */
  f0Std: number;
  /** Duration stretch (1 = the voice's own speed; 1.2 = 20 % slower). */
  stretch: number;
}

/** F0 means (Hz) of the Festival variants, one "voice" each; split by voice like espeak-ng's. */
export const FESTIVAL_F0_MEANS = [75, 85, 95, 105, 115, 125, 135, 145, 155, 165, 175, 185, 200, 215, 230, 245];

/**
 * The Festival variants as voice names (`ked-f0-<Hz>`).
 *
 * @example festivalVoices()[0] // 'ked-f0-75'
 */
export function festivalVoices(): string[] {
  return FESTIVAL_F0_MEANS.map((f) => `ked-f0-${f}`);
}

/**
 * The F0 mean of a Festival voice name; throws E_OPTION for anything else.
 *
 * @example festivalVoiceF0('ked-f0-120') // 120
 */
export function festivalVoiceF0(voice: string): number {
  const m = /^ked-f0-(\d+)$/.exec(voice);
  check(m !== null, 'E_OPTION', () => `festival: expected a voice named ked-f0-<Hz>, found ${JSON.stringify(voice)}`);
  return Number(m![1]);
}

let available: boolean | undefined;

/**
 * True when Festival runs and has the ked_diphone voice (cached after the first call).
 *
 * @example if (!festivalAvailable()) console.log('apt-get install festival festvox-kdlpc16k');
 */
export function festivalAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync(FESTIVAL, ['-b', `(begin (voice_${FESTIVAL_VOICE}) (print 'deltakit-ok))`], { encoding: 'utf8' });
    available = r.status === 0 && /deltakit-ok/.test(r.stdout) && !/not defined|error/i.test(r.stderr ?? '');
  }
  return available;
}

/**
 * The Festival version string (part of the feature cache key).
 *
 * @example festivalVersion() // '2.5.0'
 */
export function festivalVersion(): string {
  const r = spawnSync(FESTIVAL, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) fail('E_IO', `festival: expected the festival program on PATH (apt-get install festival festvox-kdlpc16k), found ${r.error ? r.error.message : `exit code ${r.status}`}`);
  const m = /System:\s*(\S+)/.exec(r.stdout);
  return m ? m[1]! : r.stdout.trim();
}

function checkOptions(text: string, o: FestivalOptions): void {
  check(/^[a-z ]+$/.test(text), 'E_OPTION', () => `festival: expected lower-case words, found ${JSON.stringify(text)}`);
  check(o.f0Mean >= 40 && o.f0Mean <= 400 && o.f0Std >= 0 && o.f0Std <= 100, 'E_OPTION', () => `festival: expected F0 mean in 40..400 Hz and std in 0..100 Hz, found ${o.f0Mean} and ${o.f0Std}`);
  check(o.stretch >= 0.5 && o.stretch <= 2, 'E_OPTION', () => `festival: expected a duration stretch in 0.5..2, found ${o.stretch}`);
}

/**
 * Speak many texts with one Festival process; returns 16 kHz audio in the same order.
 * Throws E_IO when Festival or the voice is missing or an output file was not written.
 *
 * @example const [a] = festivalSpeakMany([{ text: 'seven', f0Mean: 120, f0Std: 15, stretch: 1 }]);
 */
export function festivalSpeakMany(items: Array<{ text: string } & FestivalOptions>): Audio[] {
  if (items.length === 0) return [];
  for (const it of items) checkOptions(it.text, it);
  const dir = mkdtempSync(join(tmpdir(), 'deltakit-festival-'));
  try {
    const lines = [`(voice_${FESTIVAL_VOICE})`];
    items.forEach((it, i) => {
      lines.push(`(Parameter.set 'Duration_Stretch ${it.stretch.toFixed(4)})`);
      lines.push(`(set! int_lr_params '((target_f0_mean ${it.f0Mean.toFixed(2)}) (target_f0_std ${it.f0Std.toFixed(2)}) (model_f0_mean 170) (model_f0_std 34)))`);
      lines.push(`(utt.save.wave (utt.synth (Utterance Text "${it.text}")) "${join(dir, `${i}.wav`)}" 'riff)`);
    });
    const script = join(dir, 'speak.scm');
    writeFileSync(script, lines.join('\n') + '\n');
    const r = spawnSync(FESTIVAL, ['-b', script], { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (r.error || r.status !== 0) fail('E_IO', `festival: expected the festival program (apt-get install festival festvox-kdlpc16k) to run, found ${r.error ? r.error.message : `exit code ${r.status}: ${String(r.stderr).trim().slice(0, 300)}`}`);
    return items.map((it, i) => {
      const file = join(dir, `${i}.wav`);
      // Festival exits 0 even when it wrote nothing (e.g. the voice is not installed).
      if (!existsSync(file) || statSync(file).size <= 44) {
        fail('E_IO', `festival: expected voice ${FESTIVAL_VOICE} (apt-get install festvox-kdlpc16k) to write audio for ${JSON.stringify(it.text)}, found ${existsSync(file) ? 'an empty file' : 'no file'}${r.stderr ? ` (${String(r.stderr).trim().slice(0, 200)})` : ''}`);
      }
      return parseWav(new Uint8Array(readFileSync(file)));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Speak one text with Festival's ked_diphone voice (16 kHz).
 *
 * @example const audio = festivalSpeak('seven', { f0Mean: 120, f0Std: 15, stretch: 1.1 });
 */
export function festivalSpeak(text: string, o: FestivalOptions): Audio {
  return festivalSpeakMany([{ text, ...o }])[0]!;
}
