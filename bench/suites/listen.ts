/**
 * The listening chain (`deltakit listen`, the playground's microphone) on each built-in speech
 * model: a recording synthesised here with espeak-ng, fed to the Listener in 1024-sample chunks
 * as an audio callback would. Per 10 ms frame: the whole chain (resampling to 16 kHz, streaming
 * log-mel, voice-activity segments, the delta network with fired columns recorded), first pass
 * and warm; per network step alone; where the network ran and its ops against dense.
 * The playground measures the same way in the page (web/run.ts), so the two compare.
 */
import { espeakAvailable, speak } from '../../src/data/espeak.js';
import { existsSync } from 'node:fs';
import { loadModel } from '../../src/model/io.js';
import { LogMel } from '../../src/data/mel.js';
import { resample } from '../../src/data/resample.js';
import { Listener } from '../../src/stream/listener.js';
import { BUILTIN_TASKS, builtinSpec } from '../../src/train/builtin.js';
import { modelThresholds, timeListening, timeSegmentSteps } from '../../web/run.js';
import type { BenchSuite } from '../types.js';

/** What each task's recording says (espeak-ng en-us, 150 wpm; the word gap in 10 ms units). */
const SAID: Record<string, { text: string; gap: number }> = {
  digits: { text: 'three five eight one', gap: 60 },
  'digit-strings': { text: 'four one seven nine', gap: 15 },
  keywords: { text: 'yes stop left cat go', gap: 70 },
};

export const listenSuite: BenchSuite = {
  name: 'listen',
  async run(ctx) {
    const title = 'Listening: audio to words, per 10 ms frame (resample, log-mel, segments, delta network)';
    const columns = ['model', 'mode', 'said / heard', 'frames', 'network ran on', 'ops vs dense', 'chain first us/frame', 'chain warm us/frame', 'network us/step'];
    if (!espeakAvailable()) return [{ title, columns, rows: [], notes: ['espeak-ng is not installed: no recording to listen to (apt-get install espeak-ng).'] }];
    const rows: string[][] = [];
    for (const task of BUILTIN_TASKS) {
      const spec = builtinSpec(task);
      if (!existsSync(spec.file)) continue;
      ctx.log(`listen: ${task}`);
      const model = await loadModel(spec.file);
      const said = SAID[task]!;
      const audio = speak(said.text, { accent: 'en-us', variant: '', speed: 150, pitch: 50, amplitude: 100, wordGap: said.gap });
      const l = new Listener(model, audio.sampleRate, modelThresholds(model));
      for (let i = 0; i < audio.samples.length; i += 1024) l.push(audio.samples.subarray(i, i + 1024));
      l.flush();
      const r = l.recognizer;
      const t = r.totals;
      const times = timeListening(model, audio.samples, audio.sampleRate, 1024, ctx.quick ? 1 : 5);
      const features = new LogMel(16000).compute(resample(audio.samples, audio.sampleRate, 16000)).data;
      // The network's share: the segments (or, for keywords, the whole stream) from a fresh state.
      const spans = r.mode === 'keywords' ? [{ start: 0, end: t.frames }] : r.segments;
      let step = Infinity;
      for (let k = 0; k < (ctx.quick ? 1 : 5); k++) step = Math.min(step, timeSegmentSteps(model, spans, features));
      rows.push([
        model.name,
        r.mode,
        `${said.text} / ${r.transcript().join(' ') || '(nothing)'}`,
        String(t.frames),
        `${((100 * t.steps) / t.frames).toFixed(0)} %`,
        `${(t.denseOps / t.ops).toFixed(2)}x fewer`,
        times.first.toFixed(1),
        times.best.toFixed(1),
        step.toFixed(2),
      ]);
    }
    return [
      {
        title,
        columns,
        rows,
        notes: [
          'Warm: best of five passes over the recording with a fresh Listener each; first: the first pass of the run (compilation included). The network step is timed frame by frame over the same frames, after one untimed pass.',
          'The keyword model runs on every frame (the keyword spotter as tuned); the others only inside voiced segments. The playground reports the same three numbers for an uploaded .wav (docs/listening.md compares them).',
        ],
      },
    ];
  },
};
