/**
 * A third speech synthesiser, for evaluation only: Debian's flite (CMU Flite 2, package `flite`),
 * whose built-in voices are none of the speakers the corpora train or tune on: `kal16` and `kal`
 * (diphone, male; `kal` speaks at 8 kHz, a narrow-band voice), `awb` (Scottish male), `rms`
 * (male) and `slt` (female), the last three statistical-parametric. The corpora put flite voices
 * only in the test split, so a model's number on them is the number on a synthesiser it never
 * heard and no choice was made on (`deltakit eval --flite`).
 *
 * flite writes each voice's own sample rate; everything is resampled to 16 kHz with sox, so the
 * 8 kHz voice reaches the front end as a band-limited 16 kHz signal, as a telephone recording
 * played into a 16 kHz pipeline would. flite falls back to its default voice, silently, for a
 * name it does not know, so voices are checked against `flite -lv` first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { check, fail } from '../core/errors.js';
import { parseWav, type Audio } from './wav.js';

const FLITE = process.env['DELTAKIT_FLITE'] ?? 'flite';

/** The flite voices deltakit evaluates with (all built into Debian's flite 2.2). */
export const FLITE_VOICES = ['kal16', 'kal', 'awb', 'rms', 'slt'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];

/**
 * The flite voices as corpus voice names (`flite-<voice>`).
 *
 * @example fliteVoices()[0] // 'flite-kal16'
 */
export function fliteVoices(): string[] {
  return FLITE_VOICES.map((v) => `flite-${v}`);
}

/**
 * The flite voice of a corpus voice name; throws E_OPTION for anything else.
 *
 * @example fliteVoiceOf('flite-slt') // 'slt'
 */
export function fliteVoiceOf(voice: string): FliteVoice {
  const v = voice.replace(/^flite-/, '');
  check(voice.startsWith('flite-') && (FLITE_VOICES as readonly string[]).includes(v), 'E_OPTION', () => `flite: expected a voice among ${fliteVoices().join(', ')}, found ${JSON.stringify(voice)}`);
  return v as FliteVoice;
}

let installed: string[] | undefined;

/** The voices `flite -lv` lists (empty when flite does not run). */
function listedVoices(): string[] {
  if (installed === undefined) {
    const r = spawnSync(FLITE, ['-lv'], { encoding: 'utf8' });
    installed = r.status === 0 ? (/Voices available:(.*)/.exec(r.stdout)?.[1] ?? '').trim().split(/\s+/).filter((s) => s !== '') : [];
  }
  return installed;
}

/**
 * True when flite runs and has every voice of FLITE_VOICES.
 *
 * @example if (!fliteAvailable()) console.log('apt-get install flite');
 */
export function fliteAvailable(): boolean {
  const v = listedVoices();
  return FLITE_VOICES.every((x) => v.includes(x));
}

/**
 * The flite version string (part of the feature cache key).
 *
 * @example fliteVersion() // 'flite-2.2-current'
 */
export function fliteVersion(): string {
  // flite 2.2 prints its version and exits 1.
  const r = spawnSync(FLITE, ['--version'], { encoding: 'utf8' });
  const v = /version:\s*(\S+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1];
  if (r.error || v === undefined) fail('E_IO', `flite: expected the flite program on PATH (apt-get install flite) to print its version, found ${r.error ? r.error.message : `exit code ${r.status} and no version`}`);
  return v!;
}

/** How flite speaks one utterance. */
export interface FliteOptions {
  voice: FliteVoice;
  /** Duration stretch (1 = the voice's own speed; 1.2 = 20 % slower). */
  stretch: number;
}

/**
 * Speak one text with a flite voice; returns 16 kHz audio. Throws E_IO when flite, the voice or
 * sox (to resample) is missing, or nothing was written.
 *
 * @example const audio = fliteSpeak('seven', { voice: 'slt', stretch: 1 });
 */
export function fliteSpeak(text: string, o: FliteOptions): Audio {
  check(/^[a-z ]+$/.test(text), 'E_OPTION', () => `flite: expected lower-case words, found ${JSON.stringify(text)}`);
  check(o.stretch >= 0.5 && o.stretch <= 2, 'E_OPTION', () => `flite: expected a duration stretch in 0.5..2, found ${o.stretch}`);
  check(listedVoices().includes(o.voice), 'E_IO', () => `flite: expected voice ${o.voice} (apt-get install flite), found ${listedVoices().length ? `only ${listedVoices().join(', ')}` : 'no flite program'}`);
  const dir = mkdtempSync(join(tmpdir(), 'deltakit-flite-'));
  try {
    const raw = join(dir, 'raw.wav');
    const r = spawnSync(FLITE, ['-voice', o.voice, '--setf', `duration_stretch=${o.stretch.toFixed(4)}`, '-t', text, '-o', raw], { encoding: 'utf8' });
    if (r.error || r.status !== 0) fail('E_IO', `flite: expected the flite program (apt-get install flite) to run, found ${r.error ? r.error.message : `exit code ${r.status}: ${String(r.stderr).trim().slice(0, 300)}`}`);
    if (!existsSync(raw) || statSync(raw).size <= 44) fail('E_IO', `flite: expected voice ${o.voice} to write audio for ${JSON.stringify(text)}, found ${existsSync(raw) ? 'an empty file' : 'no file'}`);
    let audio = parseWav(new Uint8Array(readFileSync(raw)));
    if (audio.sampleRate !== 16000) {
      const out = join(dir, '16k.wav');
      const s = spawnSync('sox', [raw, '-r', '16000', out], { encoding: 'utf8' });
      if (s.error || s.status !== 0 || !existsSync(out)) fail('E_IO', `flite: expected sox (apt-get install sox) to resample voice ${o.voice} from ${audio.sampleRate} Hz to 16 kHz, found ${s.error ? s.error.message : `exit code ${s.status}`}`);
      audio = parseWav(new Uint8Array(readFileSync(out)));
    }
    return audio;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
