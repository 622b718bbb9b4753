/** .npy reading and writing: versions 1-3, dtype conversion, and coded rejections. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../../src/core/npy.js';
import { expectCode } from '../helpers/errors.js';


/** Build a .npy by hand: version, header dict text, data bytes. */
function npy(major: number, dict: string, data: Uint8Array): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const h = new TextEncoder().encode(dict + '\n');
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, h.length, true);
  else dv.setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(data, pre + h.length);
  return out;
}
const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

describe('npy', () => {
  it('round-trips float32 arrays of any rank', () => {
    for (const shape of [[], [0], [5], [2, 3], [2, 1, 3]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 1);
      const bytes = encodeNpy(data, shape);
      expect((bytes.length - 4 * n) % 64).toBe(0); // header aligned as numpy writes it
      const back = parseNpy(bytes);
      expect(back.shape).toEqual(shape);
      expect(Array.from(back.data)).toEqual(Array.from(data));
    }
  });

  it('reads files numpy wrote (the golden inputs)', () => {
    const x = parseNpy(new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'golden', 'cases', 'gru_l1_h8', 'x.npy'))));
    expect(x.shape).toEqual([48, 3]);
    expect(x.data.every(Number.isFinite)).toBe(true);
  });

  it('reads versions 2 and 3 and converts <f8 and <f2', () => {
    const v2 = parseNpy(npy(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(new Float64Array([0.25, -3]).buffer)));
    expect(Array.from(v2.data)).toEqual([0.25, -3]);
    const v3 = parseNpy(npy(3, "{'descr': '<f2', 'fortran_order': False, 'shape': (1, 2), }", new Uint8Array(new Uint16Array([0x3c00, 0xb800]).buffer)));
    expect(v3.shape).toEqual([1, 2]);
    expect(Array.from(v3.data)).toEqual([1, -0.5]);
  });

  it('rejects what it cannot read with coded errors', () => {
    const dict = (descr: string, fortran = 'False', shape = '(2,)') => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
    expectCode(() => parseNpy(new Uint8Array([1, 2, 3])), 'E_FORMAT', /magic/);
    expectCode(() => parseNpy(npy(1, dict('<f4', 'True'), f32(1, 2))), 'E_UNSUPPORTED', /fortran_order/);
    expectCode(() => parseNpy(npy(1, dict('>f4'), f32(1, 2))), 'E_UNSUPPORTED', /big-endian/);
    expectCode(() => parseNpy(npy(1, dict('|O'), f32(1, 2))), 'E_UNSUPPORTED', /dtype/);
    expectCode(() => parseNpy(npy(1, dict('<i4'), f32(1, 2))), 'E_UNSUPPORTED', /dtype/);
    expectCode(() => parseNpy(npy(1, dict('<f4', 'False', '(3,)'), f32(1, 2))), 'E_FORMAT', /needs 12 data bytes, the file has 8/);
    expectCode(() => parseNpy(npy(1, dict('<f4', 'False', '(-2,)'), f32(1, 2))), 'E_FORMAT', /shape/);
    expectCode(() => parseNpy(npy(1, "{'descr': '<f4'}", f32(1, 2))), 'E_FORMAT', /fortran_order and shape/);
    expectCode(() => parseNpy(npy(1, dict('<f4', 'False', '(99999999999, 99999999999)'), f32(1, 2))), 'E_FORMAT', /data bytes/);
    const trunc = npy(1, dict('<f4'), f32(1, 2));
    expectCode(() => parseNpy(trunc.subarray(0, 20)), 'E_FORMAT', /truncated/);
    const v9 = npy(1, dict('<f4'), f32(1, 2));
    v9[6] = 9;
    expectCode(() => parseNpy(v9), 'E_UNSUPPORTED', /version 9/);
    const huge = npy(2, dict('<f4'), f32(1, 2));
    new DataView(huge.buffer).setUint32(8, 0xfffffff0, true);
    expectCode(() => parseNpy(huge), 'E_LIMIT');
    expectCode(() => encodeNpy(new Float32Array(3), [2, 2]), 'E_SHAPE');
  });

  it('writeNpy refuses to overwrite unless asked; readNpy reads it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deltakit-npy-'));
    const p = join(dir, 'y.npy');
    await writeNpy(p, new Float32Array([1, 2, 3, 4]), [2, 2]);
    await expect(writeNpy(p, new Float32Array([5]), [1])).rejects.toMatchObject({ code: 'E_EXISTS' });
    expect(Array.from((await readNpy(p)).data)).toEqual([1, 2, 3, 4]);
    await writeNpy(p, new Float32Array([5]), [1], { overwrite: true });
    expect(await readNpy(p)).toEqual({ data: new Float32Array([5]), shape: [1] });
    await expect(readNpy(join(dir, 'nope.npy'))).rejects.toMatchObject({ code: 'E_IO' });
  });
});

describe('npy header parsed as the Python literal numpy reads', () => {
  const data = f32(1, 2, 3, 4, 5, 6);
  it('refuses a repeated key (numpy keeps the last value, a naive reader the first)', () => {
    expectCode(() => parseNpy(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'shape': (3, 2), }", data)), 'E_FORMAT', /appears twice/);
    expectCode(() => parseNpy(npy(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", data)), 'E_FORMAT', /appears twice/);
  });
  it('refuses unknown keys, junk after the dict and a 1-tuple without its comma', () => {
    expectCode(() => parseNpy(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1, }", data)), 'E_FORMAT');
    expectCode(() => parseNpy(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } junk", data)), 'E_FORMAT', /after the closing brace/);
    expectCode(() => parseNpy(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", data)), 'E_FORMAT', /shape/);
    expectCode(() => parseNpy(npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", data)), 'E_UNSUPPORTED', /structured/);
  });
  it('accepts any key order, double quotes and no trailing comma', () => {
    const a = parseNpy(npy(1, '{"shape": (3, 2), "fortran_order": False, "descr": "<f4"}', data));
    expect(a.shape).toEqual([3, 2]);
    expect(parseNpy(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f32(7))).shape).toEqual([]);
  });
});
