/**
 * JSON headers of binary files (safetensors, .dkcb, checkpoints), parsed strictly.
 *
 * `JSON.parse` silently keeps the last of two equal keys; other readers of the same file may keep
 * the first (or refuse it), so a header with a repeated key means different things to different
 * tools. deltakit refuses such headers instead of guessing.
 */
import { fail } from './errors.js';

/**
 * The first key repeated within one object of `text`, or undefined. `text` must already be valid
 * JSON (call after JSON.parse succeeded): the scan relies on that. Linear in the text length.
 *
 * @example findDuplicateKey('{"a": 1, "a": 2}') // 'a'
 */
export function findDuplicateKey(text: string): string | undefined {
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const keys = stack[stack.length - 1]!;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
  return undefined;
}

/**
 * JSON.parse that also refuses repeated keys; every failure is E_FORMAT naming `where`.
 *
 * @example const header = parseJsonStrict(text, 'safetensors: header');
 */
export function parseJsonStrict(text: string, where: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return fail('E_FORMAT', `${where} is not valid JSON (${(e as Error).message})`);
  }
  const dup = findDuplicateKey(text);
  if (dup !== undefined) fail('E_FORMAT', `${where}: key ${JSON.stringify(dup).slice(0, 80)} appears twice in one object (expected each key once)`);
  return v;
}
