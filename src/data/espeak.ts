/**
 * Speech synthesis with Debian's espeak-ng, run as a child process. deltakit never downloads
 * audio: every utterance of the corpora is made on the machine from text.
 *
 * A speaking *voice* here is an espeak-ng variant (formant set, pitch range, breathiness: `!v/<name>`),
 * the closest espeak-ng has to a speaker. Accents (en-us, en-gb-scotland, ...) are pronunciation
 * rules shared by every speaker, so they are drawn per utterance, not per voice.
 */
import { spawnSync } from 'node:child_process';
import { check, fail } from '../core/errors.js';
import { parseWav, type Audio } from './wav.js';

/** How one utterance is spoken. */
export interface SpeakOptions {
  /** espeak-ng language voice (the accent), e.g. `en-us`. */
  accent: string;
  /** espeak-ng variant file name (the speaker), e.g. `f3`; empty for the language's default. */
  variant: string;
  /** Words per minute (espeak-ng `-s`, 80..450). */
  speed: number;
  /** Base pitch (espeak-ng `-p`, 0..99). */
  pitch: number;
  /** Loudness (espeak-ng `-a`, 0..200, default 100). */
  amplitude: number;
  /** Pause between words in units of 10 ms (espeak-ng `-g`). */
  wordGap: number;
}

/** English accents espeak-ng ships; every corpus draws from these. */
export const ENGLISH_ACCENTS = ['en-us', 'en-gb', 'en-gb-scotland', 'en-029', 'en-gb-x-rp', 'en-gb-x-gbclan', 'en-gb-x-gbcwmd', 'en-us-nyc'];

const ESPEAK = process.env['DELTAKIT_ESPEAK'] ?? 'espeak-ng';

let available: boolean | undefined;

/**
 * True when an espeak-ng binary runs on this machine (cached after the first call).
 *
 * @example if (!espeakAvailable()) console.log('apt-get install espeak-ng');
 */
export function espeakAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync(ESPEAK, ['--version'], { encoding: 'utf8' });
    available = r.status === 0 && /eSpeak NG/i.test(r.stdout);
  }
  return available;
}

/**
 * The espeak-ng version string (part of every cache key: another version speaks differently).
 *
 * @example espeakVersion() // '1.51'
 */
export function espeakVersion(): string {
  const r = spawnSync(ESPEAK, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) fail('E_IO', `espeak-ng: expected the espeak-ng program on PATH (apt-get install espeak-ng), found ${r.error ? r.error.message : `exit code ${r.status}`}`);
  const m = /eSpeak NG text-to-speech:\s*(\S+)/.exec(r.stdout);
  return m ? m[1]! : r.stdout.trim();
}

/**
 * The speaker variants installed with espeak-ng, sorted by name (the split by voice depends on
 * this order, so it must not depend on the file system's listing order).
 *
 * @example listVariants() // ['Alex', 'Alicia', ..., 'f3', ..., 'zac']
 */
export function listVariants(): string[] {
  const r = spawnSync(ESPEAK, ['--voices=variant'], { encoding: 'utf8' });
  if (r.status !== 0) fail('E_IO', `espeak-ng: could not list voice variants (${r.error ? r.error.message : `exit code ${r.status}`})`);
  const names = new Set<string>();
  for (const line of r.stdout.split('\n').slice(1)) {
    // A file name with a space ("!v/Mr serious") cannot be passed as `lang+variant`: the pattern
    // requires the name to be followed by the end of the line or the "(other languages)" column.
    const m = /\s!v\/([A-Za-z0-9_-]+)(?:\s+\(|\s*$)/.exec(line);
    if (m) names.add(m[1]!);
  }
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Speak a text and return the audio (22050 Hz mono for espeak-ng's default voices).
 *
 * @example const { samples, sampleRate } = speak('seven', { accent: 'en-us', variant: 'f3', speed: 160, pitch: 50, amplitude: 100, wordGap: 0 });
 */
export function speak(text: string, o: SpeakOptions): Audio {
  check(/^[a-z ]+$/.test(text), 'E_OPTION', () => `speak: expected lower-case words, found ${JSON.stringify(text)}`);
  const voice = o.variant ? `${o.accent}+${o.variant}` : o.accent;
  const args = ['-v', voice, '-s', String(Math.round(o.speed)), '-p', String(Math.round(o.pitch)), '-a', String(Math.round(o.amplitude)), '-g', String(Math.round(o.wordGap)), '--stdout', text];
  const r = spawnSync(ESPEAK, args, { maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) {
    fail('E_IO', `espeak-ng: expected the espeak-ng program to speak ${JSON.stringify(text)} with voice ${voice}, found ${r.error ? r.error.message : `exit code ${r.status}: ${String(r.stderr).trim()}`}`);
  }
  const audio = parseWav(new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength));
  check(audio.samples.length > 0, 'E_FORMAT', () => `espeak-ng: voice ${voice} produced no audio for ${JSON.stringify(text)}`);
  return audio;
}
