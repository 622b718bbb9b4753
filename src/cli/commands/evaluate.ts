/**
 * `deltakit eval MODEL --split test [--festival-only] [--condition gain=-20]`: accuracy of a
 * trained classifier through the streaming runtime, dense and as a delta network, with the ops
 * it saves, on a corpus split under an optional fixed condition (level, 8 kHz channel, reverb,
 * formant shift): how a model holds up on voices and channels it never heard.
 */
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { SPLITS } from '../../data/dataset.js';
import { loadModel } from '../../model/io.js';
import type { Model } from '../../model/types.js';
import { modelLabel } from '../../model/source.js';
import { metadataObject, storedThresholds } from '../../train/model-task.js';
import { checkClipRule, CLIP_RULES, clipRuleOfModel, type ClipRuleOptions } from '../../train/kws-spotter.js';
import { agreementOf, evaluateWithSession, modelTask, scoresClips, taskDataset } from '../../train/task.js';
import { parseChoice, parseNumber, table } from '../options.js';
import { synthesiserOf } from '../../data/corpus.js';
import { addCorpusOptions, checkUnheardVoices, corpusOptionsOfModel, type CorpusCliOptions } from './data.js';

interface EvalOpts extends CorpusCliOptions {
  split: string;
  thx?: string;
  thh?: string;
  clipRule?: string;
  clipThreshold?: string;
  json?: boolean;
}

/**
 * The clip rule of a CTC model's evaluation: --clip-rule / --clip-threshold, else the model's
 * stored rule, else greedy; undefined for a classifier (E_OPTION when either option is given).
 */
/**
 * A threshold eval runs at without --thx/--thh: the model's tuned one (metadata thresholdX /
 * thresholdH), else the one it was trained with (trainConfig), else 0. A stored value that is
 * not a threshold, or a trainConfig that is not JSON, is E_FORMAT naming the key and the file.
 */
function defaultThreshold(model: Model, key: 'thresholdX' | 'thresholdH'): number {
  if (model.meta[key] !== undefined) return storedThresholds(model)[key];
  const v = metadataObject(model, 'trainConfig')?.[key];
  if (v === undefined) return 0;
  check(typeof v === 'number' && Number.isFinite(v) && v >= 0, 'E_FORMAT', () => `${modelLabel(model)}: metadata trainConfig.${key}: expected a delta threshold >= 0, found ${JSON.stringify(v)}`);
  return v;
}

function clipRuleOf(model: Model, readout: string, o: EvalOpts): ClipRuleOptions | undefined {
  if (readout !== 'ctc') {
    check(o.clipRule === undefined && o.clipThreshold === undefined, 'E_OPTION', () => `eval: --clip-rule and --clip-threshold are for a keyword-stream (CTC) model, found a classifier (readout ${readout})`);
    return undefined;
  }
  const stored = clipRuleOfModel(model);
  const rule = parseChoice('--clip-rule', o.clipRule, CLIP_RULES) ?? (o.clipThreshold !== undefined ? 'peak' : stored.rule);
  if (rule === 'greedy') {
    check(o.clipThreshold === undefined, 'E_OPTION', () => `eval: --clip-threshold belongs to the peak rule, found --clip-rule greedy`);
    return { rule };
  }
  const threshold = parseNumber('--clip-threshold', o.clipThreshold, { min: 1e-9, max: 1 }) ?? stored.threshold;
  check(threshold !== undefined, 'E_OPTION', () => `eval: --clip-rule peak needs --clip-threshold <p> (the model stores no clip threshold), found none`);
  return checkClipRule({ rule, threshold });
}

export function register(program: Command): void {
  addCorpusOptions(
    program
      .command('eval')
      .description('accuracy, occupancy and ops saved of a trained classifier on a corpus split, dense and delta, under an optional condition')
      .argument('<model>', 'a classifier trained by deltakit train')
      .option('--split <split>', 'train, validation or test', 'test')
      .option('--thx <threshold>', "input delta threshold (default: the model's tuned one, else its training one)")
      .option('--thh <threshold>', "hidden delta threshold (default: the model's tuned one, else its training one)")
      .option('--clip-rule <rule>', `a keyword-stream (CTC) model: how a clip's keyword is decided, ${CLIP_RULES.join(' or ')} (default: the model's tuned rule, else greedy)`)
      .option('--clip-threshold <p>', "the peak rule's posterior threshold, in (0, 1]; implies --clip-rule peak (default: the model's tuned one)")
      .option('--json', 'print the numbers as JSON'),
    '3,2,2',
  ).action(async (modelPath: string, o: EvalOpts, cmd: Command) => {
    const split = parseChoice('--split', o.split, SPLITS)!;
    const model = await loadModel(modelPath);
    const task = modelTask(model);
    const co = corpusOptionsOfModel(model, o, cmd);
    const thresholdX = parseNumber('--thx', o.thx, { min: 0 }) ?? defaultThreshold(model, 'thresholdX');
    const thresholdH = parseNumber('--thh', o.thh, { min: 0 }) ?? defaultThreshold(model, 'thresholdH');
    const clipRule = clipRuleOf(model, task.readout, o);
    const ds = taskDataset(task, split, co);
    check(ds.utterances.length > 0, 'E_VALUE', () => `eval: the ${split} split with these options holds no utterances`);
    if (split !== 'train') checkUnheardVoices(model, ds.utterances, split, 'eval');
    // One row pair per synthesiser: a mixed split would hide how the second synthesiser fares.
    const groups = new Map<string, typeof ds.utterances>();
    for (const u of ds.utterances) {
      const g = synthesiserOf(u.voice);
      if (!groups.has(g)) groups.set(g, []);
      groups.get(g)!.push(u);
    }
    const results = [...groups.entries()].map(([synth, utterances]) => {
      const part = { ...ds, utterances };
      const dense = evaluateWithSession(model, part, task.readout, undefined, clipRule ? { clipRule } : {});
      const delta = evaluateWithSession(model, part, task.readout, { thresholdX, thresholdH }, clipRule ? { clipRule } : {});
      // How often the delta network decides what the dense one decides: the gap between the two
      // accuracies hides the errors it makes where it also mends others.
      const agreement = agreementOf(dense.decisions!, delta.decisions!);
      return { synthesiser: synth, utterances: dense.utterances, voices: new Set(utterances.map((u) => u.voice)).size, dense, delta, agreement };
    });
    const ctc = task.readout === 'ctc';
    if (o.json) {
      console.log(
        JSON.stringify({
          split,
          condition: co.condition ?? {},
          thresholdX,
          thresholdH,
          ...(clipRule ? { clipRule } : {}),
          results: results.map((r) => ({ synthesiser: r.synthesiser, utterances: r.utterances, voices: r.voices, denseAccuracy: r.dense.accuracy, deltaAccuracy: r.delta.accuracy, ...(ctc ? { denseWer: r.dense.wer, deltaWer: r.delta.wer } : {}), agreement: r.agreement, occupancy: r.delta.occupancy, opsSaving: r.delta.opsSaving })),
        }),
      );
      return;
    }
    const pct = (v: number) => (100 * v).toFixed(2);
    const rule = clipRule ? `, clip rule ${clipRule.rule}${clipRule.rule === 'peak' ? ` (threshold ${clipRule.threshold})` : ''}` : '';
    console.log(`${split} split${o.condition ? `, condition ${o.condition}` : ''}, delta thresholds thx ${thresholdX} thh ${thresholdH}${rule}:`);
    const rows: string[][] = [];
    for (const r of results) {
      const wer = (e: { wer?: number }) => (ctc ? [pct(e.wer!)] : []);
      rows.push([r.synthesiser, `${r.utterances} / ${r.voices}`, 'dense', pct(r.dense.accuracy), ...wer(r.dense), '100.00', '100.00', '1.00x']);
      rows.push([r.synthesiser, `${r.utterances} / ${r.voices}`, 'delta', pct(r.delta.accuracy), ...wer(r.delta), pct(r.agreement), pct(r.delta.occupancy), `${r.delta.opsSaving.toFixed(2)}x`]);
    }
    // A keyword-stream (CTC) model on clips: right when the keyword decoded is the one said (none in
    // an unknown word or silence); its error rate counts keywords missed, wrong or inserted.
    const kws = scoresClips(task);
    console.log(table(['synthesiser', 'utterances / voices', 'network', ctc ? (kws ? 'clips right %' : 'string accuracy %') : 'accuracy %', ...(ctc ? [kws ? 'keyword error rate %' : 'WER %'] : []), 'agrees with dense %', 'occupancy %', 'ops saving'], rows));
  });
}
