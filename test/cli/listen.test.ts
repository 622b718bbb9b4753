import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { espeakAvailable } from '../../src/data/espeak.js';
import { ROOT } from '../docs/blocks.js';
import { cli } from '../helpers/cli.js';
import { MODELS_DIR } from '../../src/train/builtin.js';

const CI = process.env['CI'] === 'true';
if (!espeakAvailable() && CI) throw new Error('CI: espeak-ng must be installed for test/cli/listen.test.ts (see .ci/run)');

describe.runIf(espeakAvailable())('deltakit listen', () => {
  let dir: string;
  let wav: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dk-listen-cli-'));
    wav = join(dir, 'digits.wav');
    // A different voice and speed from the recogniser's unit test: en-gb, variant f3.
    expect(spawnSync('espeak-ng', ['-v', 'en-gb+f3', '-s', '170', '-g', '50', '-w', wav, 'two, nine, four, seven']).status).toBe(0);
  });

  it('prints the words as they are recognised, with times, and a summary of the work done', async () => {
    const r = await cli('listen', wav, '--chunk', '441');
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[2])).toEqual(['two', 'nine', 'four', 'seven']);
    for (const l of lines) expect(l).toMatch(/^\d+\.\d\d-\d+\.\d\d s {2}[a-z]+ {2}\(p [01]\.\d\d, recognised at \d+\.\d\d s\)$/);
    expect(r.err).toMatch(/^heard: two nine four seven$/m);
    expect(r.err).toMatch(/22050 Hz audio \(resampled to 16 kHz\): \d+ frames, 4 voiced segments/);
    // The built-in model's tuned thresholds, read from its metadata.
    expect(r.err).toMatch(/digits-deltagru-1x128 delta \(thx [\d.]+, thh [\d.]+\)/);
  });

  it('--json: one object per word and a summary; the delta network does fewer ops than --dense on the same frames', async () => {
    const parse = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string | boolean>);
    const delta = parse((await cli('listen', wav, '--json')).out);
    const dense = parse((await cli('listen', wav, '--json', '--dense')).out);
    const sd = delta.at(-1)!;
    const sn = dense.at(-1)!;
    expect(delta.slice(0, -1).map((w) => w['word'])).toEqual(['two', 'nine', 'four', 'seven']);
    expect(sd['transcript']).toBe('two nine four seven');
    expect(sn['transcript']).toBe('two nine four seven');
    expect(sn['network']).toBe('dense');
    expect(sd['mode']).toBe('segments');
    expect(sn['steps']).toBe(sd['steps']);
    expect(sn['ops']).toBe(sn['denseOps']);
    expect(sd['denseOps']).toBe(sn['denseOps']);
    expect((sd['ops'] as number) * 3).toBeLessThan(sn['ops'] as number);
    expect(sd['steps'] as number).toBeLessThan(sd['frames'] as number);
    for (const w of delta.slice(0, -1)) {
      expect(w['start'] as number).toBeLessThan(w['end'] as number);
      expect(w['confidence'] as number).toBeGreaterThan(0.3);
    }
  });

  it("'-' reads the WAV from standard input as it arrives (a recorder's pipe, sizes unknown)", () => {
    // espeak-ng writing to a pipe cannot fill in the sizes (0x7fffffff), as arecord or sox would not.
    const speech = spawnSync('espeak-ng', ['-v', 'en-us', '-s', '160', '-g', '60', '--stdout', 'one, six, zero']);
    expect(speech.status).toBe(0);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'listen', '-', '--quiet'], { cwd: ROOT, input: speech.stdout, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['one', 'six', 'zero']);
    const empty = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'listen', '-'], { cwd: ROOT, input: readFileSync(wav).subarray(0, 20), encoding: 'utf8', timeout: 60_000 });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/E_FORMAT: standard input: expected a 16-bit PCM \.wav stream, found no data chunk before the end/);
  });

  it('--verify: the keyword-stream model with the classifier as a second stage hears keywords the stream model alone misses', async () => {
    const kw = join(dir, 'keywords.wav');
    expect(spawnSync('espeak-ng', ['-g', '40', '-w', kw, 'stop yes left']).status).toBe(0);
    const streams = join(MODELS_DIR, 'kws-streams-deltagru.safetensors');
    const alone = await cli('listen', kw, '--model', streams, '--json');
    expect(alone.code, alone.err).toBe(0);
    const two = await cli('listen', kw, '--model', streams, '--verify', '--json');
    expect(two.code, two.err).toBe(0);
    const summary = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!) as { transcript: string; verifier?: { model: string; before: number; after: number }; ops: number; denseOps: number };
    const a = summary(alone.out);
    const b = summary(two.out);
    expect(b.transcript).toBe('stop yes left');
    expect(a.transcript.split(' ').length).toBeLessThan(3);
    expect(b.verifier).toMatchObject({ model: 'kws-verifier-deltagru-1x128', before: 40, after: 40 });
    // The verifier's work is counted.
    expect(b.ops).toBeGreaterThan(a.ops);
    expect(b.denseOps / b.ops).toBeGreaterThan(5);
    const refused = await cli('listen', wav, '--verify');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/E_OPTION: recognizer: a verifier is for a keyword model .* found model digits-deltagru-1x128 recognised by segments/);
  });

  it('bad input: coded errors naming what was expected', async () => {
    const notWav = join(dir, 'x.wav');
    writeFileSync(notWav, 'hello, not a wav file');
    let r = await cli('listen', notWav);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/E_FORMAT: wav: expected a RIFF\/WAVE header/);
    r = await cli('listen', join(dir, 'missing.wav'));
    expect(r.err).toMatch(/E_IO/);
    r = await cli('listen', wav, '--dense', '--thx', '0.1');
    expect(r.err).toMatch(/E_OPTION: --dense: expected no --thx\/--thh/);
    r = await cli('listen', wav, '--chunk', '0');
    expect(r.err).toMatch(/E_OPTION: --chunk/);
    r = await cli('listen', wav, '--task', 'music');
    expect(r.err).toMatch(/E_OPTION: --task/);
  });
});
