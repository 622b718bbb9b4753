/**
 * Corpora synthesised on the machine: a TIDIGITS-like spoken-digit corpus and a
 * speech-commands-like keyword-spotting corpus, spoken by espeak-ng with many voices, accents,
 * speeds and pitches, with noise mixed in, turned into 40-band log-mel features.
 *
 * - Deterministic from a seed: the voice split and every utterance's rendering parameters derive
 *   from the seed alone (given the same espeak-ng version, the features are identical).
 * - Split by voice: a voice (espeak-ng variant, i.e. speaker) belongs to exactly one of train,
 *   validation and test, so test voices are never heard in training.
 * - Generated on demand and cached: each utterance's features are stored under
 *   `<cacheDir>/utt/<sha1>.f32`, keyed by everything that determines them, so an interrupted build
 *   resumes where it stopped and a second build reads from disk.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { check, fail } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { progressBar } from '../train/progress.js';
import type { Dataset, Split, Utterance } from './dataset.js';
import { applyChannel, isNeutral, NO_AUGMENTATION, soxAvailable, type Augmentation } from './augment.js';
import { ENGLISH_ACCENTS, espeakAvailable, espeakVersion, listVariants, speak } from './espeak.js';
import { festivalAvailable, festivalSpeakMany, festivalVersion, festivalVoiceF0, festivalVoices } from './festival.js';
import { FLITE_VOICES, fliteAvailable, fliteSpeak, fliteVersion, fliteVoiceOf, fliteVoices } from './flite.js';
import type { Audio } from './wav.js';
import { LogMel } from './mel.js';
import { makeNoise, mixAtSnr, NOISE_KINDS } from './noise.js';
import { CORPUS_NAMES, corpusClasses, DIGIT_WORDS, KWS_KEYWORDS, KWS_SENTENCES, KWS_TRAIN_SENTENCES, KWS_UNKNOWN_WORDS, type CorpusName } from './vocabulary.js';

/** Noise-only clips per voice and rendition in the kws background material (`background: true`). */
export const BACKGROUND_SILENCES = 5;
/** Connected strings per voice and rendition in the `digit-strings` corpus. */
export const STRINGS_PER_RENDITION = 5;
export { CORPUS_NAMES, corpusClasses, DIGIT_WORDS, KWS_KEYWORDS, KWS_SENTENCES, KWS_TRAIN_SENTENCES, KWS_UNKNOWN_WORDS, type CorpusName } from './vocabulary.js';

export interface CorpusOptions {
  /** Seed of the voice split and every rendering parameter. Default 1. */
  seed?: number;
  /** Voices held out for validation. Default 10. */
  validationVoices?: number;
  /** Voices held out for test. Default 20. */
  testVoices?: number;
  /** Use only the first N voices of each split (e.g. a handful in tests). Default: all. */
  maxVoices?: number;
  /** Renditions of every class word per voice, per split. Default train 3, validation 2, test 2. */
  renditions?: Partial<Record<Split, number>>;
  /** Connected digit strings (2..7 digits) per voice (digits only; label -1, words = the digits). Default 0. */
  connectedPerVoice?: number;
  /** Signal-to-noise range in dB of the mixed background noise. Default [15, 35]. */
  snrDb?: [number, number];
  /** Add the Festival ked_diphone variants (festival.ts) as voices, split by voice like espeak-ng's. Default false. */
  festival?: boolean;
  /** Festival variants held out for validation and for test. Default 3 and 3 (of 16). */
  festivalValidationVoices?: number;
  festivalTestVoices?: number;
  /** Renditions per Festival variant and split. Default: `renditions`. */
  festivalRenditions?: Partial<Record<Split, number>>;
  /** Leave out the espeak-ng voices (with `festival`: a Festival-only corpus). Default false. */
  noEspeak?: boolean;
  /**
   * Add flite's voices (flite.ts) to the test split only: a synthesiser no model trains or tunes
   * on, so its number is the number on voices of a synthesiser never heard. Default false.
   */
  flite?: boolean;
  /** Augment the training split (gain +-20 dB, telephone channel, reverb, formant/pitch shift; augment.ts). Default false. */
  augment?: boolean;
  /**
   * Vocal-tract-length perturbation of the training split: every training utterance's log-mel
   * filterbank is warped by a factor alpha drawn log-uniformly in [lo, hi] (e.g. [0.8, 1.25];
   * mel.ts, vtlpWarp), from a stream of its own, so the other augmentation draws stay as they were.
   * Independent of `augment`. Default: none.
   */
  vtlp?: [number, number];
  /**
   * With `augment`: the range of the formant/pitch shift (SoX `pitch`, cents) drawn uniformly for
   * the half of the training utterances that get one (e.g. [-300, 700] to reach higher, shorter
   * vocal tracts than the synthesisers' own). Only the value of that draw changes, so every other
   * draw, and every utterance without a shift, keep their parameters and cache keys. Default
   * [-300, 300].
   */
  pitchShift?: [number, number];
  /**
   * The fraction of training utterances (0..0.75) sent through the narrowband channel (resampled to
   * 8 kHz and back without a band-pass; augment.ts), what an 8 kHz voice looks like at 16 kHz. With
   * `augment`, carved out of the channel draw that already picks telephone for a quarter of the
   * utterances (its uniform in [0.25, 0.25 + fraction) becomes narrowband), so every other draw and
   * every utterance that stays wide or telephone keep their parameters and cache keys; without
   * `augment`, drawn from a stream of its own. Default 0.
   */
  narrowband?: number;
  /** One fixed augmentation for every utterance of the split (an evaluation condition, e.g. { gainDb: -20 }). */
  condition?: Partial<Augmentation>;
  /**
   * kws corpus only: no keywords. Per voice and rendition, every unknown word (KWS_UNKNOWN_WORDS)
   * and BACKGROUND_SILENCES one-second noise clips: the material of long non-keyword streams, on
   * which a keyword detector's false alarms are counted. Default false.
   */
  background?: boolean;
  /**
   * kws corpus only: no keywords. Per voice and rendition, every sentence of KWS_SENTENCES (read
   * speech without any keyword, label `_unknown_`; the train split reads KWS_TRAIN_SENTENCES) and BACKGROUND_SILENCES noise clips: the
   * material of a natural non-keyword stream. Default false.
   */
  sentences?: boolean;
  /** Cache directory. Default `$DELTAKIT_CACHE` or `~/.cache/deltakit`. */
  cacheDir?: string;
  /** Show a progress bar (default: when stderr is a terminal). */
  progress?: boolean;
}

/** Everything that determines one utterance's features (hashed into its cache key). */
export interface UtterancePlan {
  id: string;
  split: Split;
  voice: string;
  accent: string;
  text: string;
  label: number;
  words: number[];
  speed: number;
  pitch: number;
  amplitude: number;
  gain: number;
  padBefore: number;
  padAfter: number;
  noise: string;
  noiseSeed: number;
  snrDb: number;
  /** Pause between words in units of 10 ms (espeak-ng -g); present in the digit-strings corpus. */
  wordGap?: number;
  /** Present for Festival utterances (absent: espeak-ng). */
  festival?: { f0Mean: number; f0Std: number; stretch: number };
  /** Present for flite utterances (test split only). */
  flite?: { voice: string; stretch: number };
  /** Present when augmented (absent: as synthesised). */
  augment?: Augmentation;
}

/** Bump when synthesis or features change in a way the cache key does not capture. */
const FEATURE_VERSION = 1;

/**
 * The default cache directory: `$DELTAKIT_CACHE`, else `~/.cache/deltakit`.
 *
 * @example defaultCacheDir() // '/home/me/.cache/deltakit'
 */
export function defaultCacheDir(): string {
  return process.env['DELTAKIT_CACHE'] ?? join(homedir(), '.cache', 'deltakit');
}

/** Deterministic 32-bit hash of a string (FNV-1a), used to derive per-utterance seeds. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Assign every voice to one split, deterministic from the seed: a seeded shuffle of the sorted
 * variant names, test voices first, then validation, the rest train.
 *
 * @example splitVoices(listVariants(), 1, 10, 20).test // 20 voice names never used in training
 */
export function splitVoices(voices: string[], seed: number, validation: number, test: number): Record<Split, string[]> {
  check(Number.isInteger(validation) && validation >= 0 && Number.isInteger(test) && test >= 0, 'E_OPTION', () => `voice split: validation and test voice counts must be integers >= 0, found ${validation} and ${test}`);
  check(validation + test < voices.length, 'E_OPTION', () => `voice split: ${validation} validation + ${test} test voices leave none for training out of ${voices.length}`);
  const order = [...voices].sort();
  const rng = new Rng(hash32(`split:${seed}`));
  rng.shuffle(order);
  return { test: order.slice(0, test), validation: order.slice(test, test + validation), train: order.slice(test + validation) };
}

function resolve(name: CorpusName, o: CorpusOptions) {
  check(CORPUS_NAMES.includes(name), 'E_OPTION', () => `corpus: expected one of ${CORPUS_NAMES.join(', ')}, found ${JSON.stringify(name)}`);
  const seed = o.seed ?? 1;
  const snr = o.snrDb ?? [15, 35];
  check(Number.isInteger(seed), 'E_OPTION', () => `corpus: seed must be an integer, found ${seed}`);
  check(snr.length === 2 && Number.isFinite(snr[0]) && snr[0] <= snr[1], 'E_OPTION', () => `corpus: SNR range must be [lo, hi] with lo <= hi, found ${JSON.stringify(snr)}`);
  const renditions: Record<Split, number> = { train: 3, validation: 2, test: 2, ...o.renditions };
  for (const [k, v] of Object.entries(renditions)) check(Number.isInteger(v) && v >= 0 && v <= 100, 'E_OPTION', () => `corpus: renditions.${k} must be an integer in 0..100, found ${v}`);
  const connected = o.connectedPerVoice ?? 0;
  check(Number.isInteger(connected) && connected >= 0, 'E_OPTION', () => `corpus: connectedPerVoice must be an integer >= 0, found ${connected}`);
  check(connected === 0 || name === 'digits', 'E_OPTION', () => 'corpus: connected strings exist only for the digits corpus (the digit-strings corpus is all strings)');
  const festivalRenditions: Record<Split, number> = { ...renditions, ...o.festivalRenditions };
  for (const [k, v] of Object.entries(festivalRenditions)) check(Number.isInteger(v) && v >= 0 && v <= 100, 'E_OPTION', () => `corpus: festivalRenditions.${k} must be an integer in 0..100, found ${v}`);
  check(!o.background || name === 'kws', 'E_OPTION', () => `corpus: background material exists only for the kws corpus, found ${name}`);
  if (o.vtlp !== undefined) {
    const [lo, hi] = o.vtlp;
    check(o.vtlp.length === 2 && Number.isFinite(lo) && Number.isFinite(hi) && lo >= 0.5 && lo <= hi && hi <= 2, 'E_OPTION', () => `corpus: vtlp must be a range [lo, hi] with 0.5 <= lo <= hi <= 2, found ${JSON.stringify(o.vtlp)}`);
  }
  if (o.pitchShift !== undefined) {
    const [lo, hi] = o.pitchShift;
    check(o.pitchShift.length === 2 && Number.isFinite(lo) && Number.isFinite(hi) && lo >= -1200 && lo <= hi && hi <= 1200, 'E_OPTION', () => `corpus: pitchShift must be a range [lo, hi] of cents with -1200 <= lo <= hi <= 1200, found ${JSON.stringify(o.pitchShift)}`);
    check(o.augment === true, 'E_OPTION', () => `corpus: pitchShift sets the range of the augmentation's formant/pitch shift, so it needs augment: true, found augment ${String(o.augment ?? false)}`);
  }
  if (o.narrowband !== undefined) check(Number.isFinite(o.narrowband) && o.narrowband >= 0 && o.narrowband <= 0.75, 'E_OPTION', () => `corpus: narrowband must be a fraction in 0..0.75, found ${o.narrowband}`);
  check(!o.sentences || name === 'kws', 'E_OPTION', () => `corpus: the sentence material exists only for the kws corpus, found ${name}`);
  check(!(o.sentences && o.background), 'E_OPTION', () => 'corpus: expected one of background and sentences, found both');
  check(!o.noEspeak || o.festival, 'E_OPTION', () => 'corpus: leaving out the espeak-ng voices needs the Festival voices (festival: true), found no voices at all');
  return { seed, snr, renditions, festivalRenditions, connected, validation: o.validationVoices ?? 10, test: o.testVoices ?? 20, festivalValidation: o.festivalValidationVoices ?? 3, festivalTest: o.festivalTestVoices ?? 3 };
}

/**
 * The list of utterances a corpus split consists of, without synthesising anything.
 *
 * @example planCorpus('digits', 'test', { maxVoices: 3 }).length
 */
export function planCorpus(name: CorpusName, split: Split, o: CorpusOptions = {}, voices: string[] = listVariants()): UtterancePlan[] {
  const r = resolve(name, o);
  const assignment = splitVoices(voices, r.seed, r.validation, r.test);
  let splitVoicesList = o.noEspeak ? [] : assignment[split];
  // Festival variants are split among themselves (a separate shuffle), so adding them leaves the
  // espeak-ng split as it was.
  let festivalList = o.festival ? splitVoices(festivalVoices(), r.seed, r.festivalValidation, r.festivalTest)[split] : [];
  if (o.maxVoices !== undefined) {
    check(Number.isInteger(o.maxVoices) && o.maxVoices > 0, 'E_OPTION', () => `corpus: maxVoices must be a positive integer, found ${o.maxVoices}`);
    splitVoicesList = splitVoicesList.slice(0, o.maxVoices);
    festivalList = festivalList.slice(0, o.maxVoices);
  }
  const condition = o.condition ? { ...NO_AUGMENTATION, ...o.condition } : undefined;
  // Training-split augmentation, drawn from its own stream so the base rendering stays the same.
  const augmentation = (id: string): Augmentation | undefined => {
    if (condition) return isNeutral(condition) ? undefined : condition;
    const narrowband = o.narrowband ?? 0;
    if ((!o.augment && !o.vtlp && narrowband === 0) || split !== 'train') return undefined;
    let a: Augmentation = { ...NO_AUGMENTATION };
    if (o.augment) {
      const [pitchLo, pitchHi] = o.pitchShift ?? [-300, 300];
      const rng = new Rng(hash32(`augment:${id}`));
      const gainDb = Number(rng.uniform(-20, 20).toFixed(2));
      // One uniform picks the channel: [0, 0.25) telephone, then `narrowband` of it narrowband.
      const u = rng.uniform(0, 1);
      a = {
        gainDb,
        channel: u < 0.25 ? 'telephone' : u < 0.25 + narrowband ? 'narrowband' : 'wide',
        reverb: rng.uniform(0, 1) < 0.3 ? Math.round(rng.uniform(10, 70)) : 0,
        pitchCents: rng.uniform(0, 1) < 0.5 ? Math.round(rng.uniform(pitchLo, pitchHi)) : 0,
      };
    } else if (narrowband > 0 && new Rng(hash32(`narrowband:${id}`)).uniform(0, 1) < narrowband) {
      a.channel = 'narrowband';
    }
    if (o.vtlp) {
      // Log-uniform, so alpha and 1 / alpha are equally likely when the range is symmetric (0.8..1.25).
      const rng = new Rng(hash32(`vtlp:${id}`));
      const warp = Number(Math.exp(rng.uniform(Math.log(o.vtlp[0]), Math.log(o.vtlp[1]))).toFixed(4));
      if (warp !== 1) a.warp = warp;
    }
    return isNeutral(a) ? undefined : a;
  };
  const classes = corpusClasses(name);
  const plans: UtterancePlan[] = [];
  const make = (voice: string, text: string, label: number, words: number[], key: string): UtterancePlan => {
    const rng = new Rng(hash32(`${name}:${r.seed}:${split}:${voice}:${key}`));
    return {
      id: `${name}/${split}/${voice}/${key}`,
      split,
      voice,
      accent: ENGLISH_ACCENTS[rng.int(ENGLISH_ACCENTS.length)]!,
      text,
      label,
      words,
      speed: Math.round(rng.uniform(120, 230)),
      pitch: Math.round(rng.uniform(25, 75)),
      amplitude: 100,
      gain: Number(rng.uniform(0.25, 1).toFixed(4)),
      padBefore: Number(rng.uniform(0.05, 0.3).toFixed(3)),
      padAfter: Number(rng.uniform(0.05, 0.3).toFixed(3)),
      noise: NOISE_KINDS[rng.int(NOISE_KINDS.length)]!,
      noiseSeed: rng.int(0x7fffffff),
      snrDb: Number(rng.uniform(r.snr[0], r.snr[1]).toFixed(2)),
    };
  };
  const finish = (p: UtterancePlan, festival: boolean): UtterancePlan => {
    if (festival) {
      const rng = new Rng(hash32(`festival:${p.id}`));
      p.accent = 'ked';
      p.festival = {
        f0Mean: Number((festivalVoiceF0(p.voice) * rng.uniform(0.95, 1.05)).toFixed(1)),
        f0Std: Number(rng.uniform(5, 30).toFixed(1)),
        stretch: Number(rng.uniform(0.8, 1.3).toFixed(3)),
      };
    }
    const a = augmentation(p.id);
    if (a) p.augment = a;
    return p;
  };
  // flite voices: test split only, never split among train and validation.
  let fliteList = o.flite && split === 'test' ? fliteVoices() : [];
  if (o.maxVoices !== undefined) fliteList = fliteList.slice(0, o.maxVoices);
  const voiceList = [...splitVoicesList.map((v) => [v, false] as const), ...festivalList.map((v) => [v, true] as const), ...fliteList.map((v) => [v, false] as const)];
  for (const [voice, fest] of voiceList) {
    const isFlite = voice.startsWith('flite-');
    const add = (text: string, label: number, words: number[], key: string) => plans.push(withFlite(finish(make(voice, text, label, words, key), fest), isFlite));
    const withFlite = (p: UtterancePlan, yes: boolean): UtterancePlan => {
      if (!yes) return p;
      const rng = new Rng(hash32(`flite:${p.id}`));
      p.accent = 'flite';
      p.flite = { voice: fliteVoiceOf(voice), stretch: Number(rng.uniform(0.85, 1.25).toFixed(3)) };
      return p;
    };
    for (let k = 0; k < (fest ? r.festivalRenditions : r.renditions)[split]; k++) {
      if (name === 'digits') {
        DIGIT_WORDS.forEach((w, label) => add(w, label, [label], `${w}#${k}`));
      } else if (name === 'digit-strings') {
        // Strings of 1..7 digits (TIDIGITS), with a per-string pause between words of 0..250 ms.
        for (let j = 0; j < STRINGS_PER_RENDITION; j++) {
          const key = `string${k}.${j}`;
          const rng = new Rng(hash32(`digit-strings:${r.seed}:${split}:${voice}:${key}`));
          const len = 1 + rng.int(7);
          const digits = Array.from({ length: len }, () => rng.int(DIGIT_WORDS.length));
          const p = make(voice, digits.map((d) => DIGIT_WORDS[d]).join(' '), -1, digits, key);
          p.wordGap = rng.int(26);
          plans.push(withFlite(finish(p, fest), isFlite));
        }
      } else if (o.sentences) {
        // Training voices read other sentences than the ones a model is measured on.
        (split === 'train' ? KWS_TRAIN_SENTENCES : KWS_SENTENCES).forEach((text, j) => add(text, 10, [10], `_sentence_${j}#${k}`));
        for (let j = 0; j < BACKGROUND_SILENCES; j++) add('', 11, [], `_sentence_silence_#${k}.${j}`);
      } else if (o.background) {
        KWS_UNKNOWN_WORDS.forEach((u) => add(u, 10, [10], `_background_${u}#${k}`));
        for (let j = 0; j < BACKGROUND_SILENCES; j++) add('', 11, [], `_background_silence_#${k}.${j}`);
      } else {
        KWS_KEYWORDS.forEach((w, label) => add(w, label, [label], `${w}#${k}`));
        // As many unknown and silence clips as one keyword has, so the classes stay balanced.
        const rng = new Rng(hash32(`unknown:${r.seed}:${voice}:${k}`));
        const u = KWS_UNKNOWN_WORDS[rng.int(KWS_UNKNOWN_WORDS.length)]!;
        add(u, 10, [10], `_unknown_${u}#${k}`);
        add('', 11, [], `_silence_#${k}`);
      }
    }
    for (let k = 0; k < r.connected; k++) {
      const rng = new Rng(hash32(`connected:${r.seed}:${voice}:${k}`));
      const len = 2 + rng.int(6);
      const digits = Array.from({ length: len }, () => rng.int(classes.length));
      add(digits.map((d) => classes[d]).join(' '), -1, digits, `string${k}`);
    }
  }
  return plans;
}

/**
 * Which synthesiser speaks a voice of the corpora.
 *
 * @example synthesiserOf('ked-f0-120') // 'festival'
 */
export function synthesiserOf(voice: string): 'espeak-ng' | 'festival' | 'flite' {
  if (voice.startsWith('flite-')) return 'flite';
  return /^ked-f0-\d+$/.test(voice) ? 'festival' : 'espeak-ng';
}

const extractors = new Map<string, LogMel>();

/**
 * Synthesise, mix and featurise one planned utterance (no cache).
 *
 * @example const f = renderUtterance(planCorpus('digits', 'test')[0]!); // frames x 40
 */
export function renderUtterance(p: UtterancePlan, synthesised?: Audio): Float32Array {
  // espeak-ng speaks at 22050 Hz, Festival and flite (resampled) at 16 kHz; silence is one second of nothing but noise.
  const silenceRate = p.festival || p.flite ? 16000 : 22050;
  const speech =
    synthesised ??
    (p.text === ''
      ? { samples: new Float32Array(silenceRate), sampleRate: silenceRate }
      : p.festival
        ? festivalSpeakMany([{ text: p.text, ...p.festival }])[0]!
        : p.flite
          ? fliteSpeak(p.text, { voice: fliteVoiceOf(`flite-${p.flite.voice}`), stretch: p.flite.stretch })
          : speak(p.text, { accent: p.accent, variant: p.voice, speed: p.speed, pitch: p.pitch, amplitude: p.amplitude, wordGap: p.wordGap ?? 0 }));
  const sr = speech.sampleRate;
  const before = Math.round(p.padBefore * sr);
  const after = Math.round(p.padAfter * sr);
  let x: Float32Array = new Float32Array(before + speech.samples.length + after);
  for (let i = 0; i < speech.samples.length; i++) x[before + i] = speech.samples[i]! * p.gain;
  mixAtSnr(x, makeNoise(p.noise as 'white', x.length, p.noiseSeed), p.snrDb);
  if (p.augment) {
    // Room and speaker effects and the channel act on speech and background noise together.
    x = applyChannel({ samples: x, sampleRate: sr }, p.augment).samples;
    const g = 10 ** (p.augment.gainDb / 20);
    if (g !== 1) for (let i = 0; i < x.length; i++) x[i] = x[i]! * g;
  }
  // A VTLP warp is a filterbank of its own (planning one costs well under a millisecond); unwarped ones are kept.
  const warp = p.augment?.warp ?? 1;
  let mel = warp === 1 ? extractors.get(String(sr)) : undefined;
  if (!mel) {
    mel = new LogMel(sr, { warp });
    if (warp === 1) extractors.set(String(sr), mel);
  }
  return mel.compute(x).data;
}

/**
 * The utterances of one corpus split, synthesised (or read from the cache) one at a time as the
 * caller asks for them: a caller that stops early synthesises nothing more.
 * Throws E_IO when espeak-ng is missing.
 *
 * @example for (const u of corpusUtterances('digits', 'test')) { if (u.frames > 100) break; }
 */
export function* corpusUtterances(name: CorpusName, split: Split, o: CorpusOptions = {}): Generator<Utterance, void, undefined> {
  if (!espeakAvailable()) fail('E_IO', 'corpus: expected the espeak-ng program on PATH to synthesise the corpus (apt-get install espeak-ng), found none');
  const version = espeakVersion();
  const plans = planCorpus(name, split, o);
  const tools: Record<string, string> = {};
  if (plans.some((p) => p.festival)) {
    if (!festivalAvailable()) fail('E_IO', 'corpus: expected the festival program with the ked_diphone voice to synthesise the Festival voices (apt-get install festival festvox-kdlpc16k), found none');
    tools['festival'] = festivalVersion();
  }
  if (plans.some((p) => p.flite)) {
    if (!fliteAvailable()) fail('E_IO', `corpus: expected the flite program with voices ${FLITE_VOICES.join(', ')} and sox to synthesise the flite voices (apt-get install flite sox), found none`);
    tools['flite'] = fliteVersion();
  }
  if (plans.some((p) => p.augment && (p.augment.channel !== 'wide' || p.augment.reverb > 0 || p.augment.pitchCents !== 0))) {
    if (!soxAvailable()) fail('E_IO', 'corpus: expected the sox program to render the augmentation (apt-get install sox), found none');
    tools['sox'] = 'sox';
  }
  const dir = join(o.cacheDir ?? defaultCacheDir(), 'utt');
  const cacheFail = (what: string, e: unknown): never => fail('E_IO', `feature cache: cannot ${what}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (expected a writable folder as --cache-dir or $DELTAKIT_CACHE)`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    cacheFail(`create ${dir}`, e);
  }
  const bands = 40;
  const bar = progressBar(`${name}/${split}`, plans.length, o.progress);
  // Extra tools enter the key only for the utterances that use them (espeak-ng keys stay as they were).
  const fileOf = (p: UtterancePlan) => {
    const extra = { ...(p.festival ? { festival: tools['festival'] } : {}), ...(p.flite ? { flite: tools['flite'] } : {}), ...(p.augment ? { sox: tools['sox'] ?? 'gain' } : {}) };
    return join(dir, `${createHash('sha1').update(JSON.stringify({ v: FEATURE_VERSION, espeak: version, bands, ...extra, ...p })).digest('hex')}.f32`);
  };
  // Festival is started once per batch of uncached utterances (starting it costs more than a word).
  const pending = new Map<number, Audio>();
  const FESTIVAL_BATCH = 64;
  try {
    for (const [i, p] of plans.entries()) {
      const file = fileOf(p);
      let features: Float32Array;
      if (existsSync(file)) {
        const b = readFileSync(file);
        features = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      } else {
        if (p.festival && p.text !== '' && !pending.has(i)) {
          const batch: number[] = [];
          for (let j = i; j < plans.length && batch.length < FESTIVAL_BATCH; j++) {
            const q = plans[j]!;
            if (q.festival && q.text !== '' && !existsSync(fileOf(q))) batch.push(j);
          }
          festivalSpeakMany(batch.map((j) => ({ text: plans[j]!.text, ...plans[j]!.festival! }))).forEach((a, k) => pending.set(batch[k]!, a));
        }
        features = renderUtterance(p, pending.get(i));
        pending.delete(i);
        // Write then rename: an interrupted build never leaves a truncated cache entry.
        const tmp = `${file}.${process.pid}.tmp`;
        try {
          writeFileSync(tmp, new Uint8Array(features.buffer, features.byteOffset, features.byteLength));
          renameSync(tmp, file);
        } catch (e) {
          cacheFail(`write ${file}`, e);
        }
      }
      bar.update(i + 1);
      yield { id: p.id, voice: p.voice, text: p.text, label: p.label, words: p.words, frames: features.length / bands, features };
    }
  } finally {
    bar.stop();
  }
}

/**
 * Build one split of a corpus: synthesise what is not cached, featurise, return the dataset.
 * Throws E_IO when espeak-ng is missing.
 *
 * @example const test = buildCorpus('digits', 'test'); // ~440 utterances of 20 unseen voices
 */
export function buildCorpus(name: CorpusName, split: Split, o: CorpusOptions = {}): Dataset {
  return { corpus: name, split, classes: corpusClasses(name), bands: 40, utterances: [...corpusUtterances(name, split, o)] };
}
