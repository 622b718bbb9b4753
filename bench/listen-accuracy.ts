/**
 * How well `deltakit listen` hears digit sequences spoken by voices the built-in model never
 * heard: for every held-out espeak-ng voice and Festival variant of the built-in model's split, a
 * sequence of four digits with pauses, in background noise, fed to the streaming Listener as
 * audio (resampling, streaming log-mel, voice-activity segments, the network), dense and delta.
 * Prints the word error rate, whole sequences right, the frames the network ran on and ops saved.
 *
 * @example npx tsx bench/listen-accuracy.ts            # 20 espeak-ng voices + 3 Festival variants
 * @example npx tsx bench/listen-accuracy.ts --gain -20  # the same 20 dB quieter
 * @example npx tsx bench/listen-accuracy.ts --validation  # the validation voices (where settings are chosen)
 */
import { ENGLISH_ACCENTS, listVariants, speak } from '../src/data/espeak.js';
import { festivalSpeakMany, festivalVoiceF0, festivalVoices } from '../src/data/festival.js';
import { makeNoise, mixAtSnr, NOISE_KINDS } from '../src/data/noise.js';
import { splitVoices } from '../src/data/corpus.js';
import { DIGIT_WORDS } from '../src/data/vocabulary.js';
import { Rng } from '../src/core/rng.js';
import { initWasm } from '../src/kernels/wasm/loader.js';
import { Listener } from '../src/stream/listener.js';
import { loadBuiltinModel } from '../src/train/builtin.js';
import { editDistance } from '../src/train/ctc.js';
import type { Audio } from '../src/data/wav.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const gainDb = arg('--gain', 0);
/** Voices of the model's validation split (where the segmenter's settings were chosen) or of its test split. */
const split = process.argv.includes('--validation') ? 'validation' : 'test';
const WORDS = 4;

await initWasm();
const model = await loadBuiltinModel('digits');
const corpus = JSON.parse(model.meta['corpusOptions'] ?? '{}') as { seed?: number; validationVoices?: number; testVoices?: number };
const espeakTest = splitVoices(listVariants(), corpus.seed ?? 1, corpus.validationVoices ?? 10, corpus.testVoices ?? 20)[split];
const festivalTest = splitVoices(festivalVoices(), corpus.seed ?? 1, 3, 3)[split];

interface Case {
  synth: string;
  voice: string;
  digits: number[];
  audio: Audio;
}

/** `pad` seconds of silence, the words with pauses between them, in noise at `snr` dB, scaled by the gain. */
function assemble(words: Audio[], pauses: number[], rate: number, rng: Rng): Audio {
  const pad = Math.round(0.5 * rate);
  const total = pad * 2 + words.reduce((a, w) => a + w.samples.length, 0) + pauses.reduce((a, p) => a + Math.round(p * rate), 0);
  const x = new Float32Array(total);
  let o = pad;
  words.forEach((w, i) => {
    x.set(w.samples, o);
    o += w.samples.length + (i < pauses.length ? Math.round(pauses[i]! * rate) : 0);
  });
  mixAtSnr(x, makeNoise(NOISE_KINDS[rng.int(NOISE_KINDS.length)] as 'white', x.length, rng.int(1 << 30)), rng.uniform(20, 30));
  const g = 10 ** (gainDb / 20);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * g;
  return { samples: x, sampleRate: rate };
}

const cases: Case[] = [];
for (const voice of espeakTest) {
  const rng = new Rng(hash(`listen:${voice}`));
  const digits = Array.from({ length: WORDS }, () => rng.int(DIGIT_WORDS.length));
  const s = speak(digits.map((d) => DIGIT_WORDS[d]).join(' '), { accent: ENGLISH_ACCENTS[rng.int(ENGLISH_ACCENTS.length)]!, variant: voice, speed: Math.round(rng.uniform(130, 190)), pitch: Math.round(rng.uniform(30, 70)), amplitude: 100, wordGap: Math.round(rng.uniform(40, 80)) });
  cases.push({ synth: 'espeak-ng', voice, digits, audio: assemble([s], [], s.sampleRate, rng) });
}
for (const voice of festivalTest) {
  for (let k = 0; k < 3; k++) {
    const rng = new Rng(hash(`listen:${voice}:${k}`));
    const digits = Array.from({ length: WORDS }, () => rng.int(DIGIT_WORDS.length));
    const f0Mean = festivalVoiceF0(voice);
    const words = festivalSpeakMany(digits.map((d) => ({ text: DIGIT_WORDS[d]!, f0Mean, f0Std: 15, stretch: rng.uniform(0.9, 1.2) })));
    cases.push({ synth: 'festival', voice, digits, audio: assemble(words, digits.slice(1).map(() => rng.uniform(0.4, 0.8)), words[0]!.sampleRate, rng) });
  }
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

console.log(`built-in ${model.name}; ${cases.length} sequences of ${WORDS} digits with pauses, noise at 20-30 dB SNR, gain ${gainDb} dB; ${split} voices, never heard in training`);
console.log('synthesiser | network | WER | sequences right | network ran on | ops vs dense on those frames');
for (const synth of ['espeak-ng', 'festival']) {
  for (const dense of [true, false]) {
    let errors = 0;
    let words = 0;
    let right = 0;
    let n = 0;
    let frames = 0;
    let steps = 0;
    let ops = 0;
    let denseOps = 0;
    for (const c of cases.filter((q) => q.synth === synth)) {
      const l = new Listener(model, c.audio.sampleRate, dense ? { dense: true } : {});
      for (let i = 0; i < c.audio.samples.length; i += 1024) l.push(c.audio.samples.subarray(i, i + 1024));
      l.flush();
      const heard = l.recognizer.words.filter((w) => w.isWord).map((w) => w.label);
      const e = editDistance(c.digits, heard);
      errors += e;
      words += c.digits.length;
      right += e === 0 ? 1 : 0;
      n++;
      const t = l.recognizer.totals;
      frames += t.frames;
      steps += t.steps;
      ops += t.ops;
      denseOps += t.denseOps;
      if (e > 0 && process.argv.includes('--verbose')) console.log(`  ${c.voice}: said ${c.digits.map((d) => DIGIT_WORDS[d]).join(' ')}, heard ${heard.map((d) => DIGIT_WORDS[d]).join(' ')} (segments ${l.recognizer.segments.map((q) => `${q.start}-${q.end}`).join(' ')})`);
    }
    console.log(`${synth} (${n}) | ${dense ? 'dense' : 'delta'} | ${((100 * errors) / words).toFixed(1)} % | ${right}/${n} | ${((100 * steps) / frames).toFixed(0)} % of frames | ${(denseOps / ops).toFixed(2)}x fewer`);
  }
}
