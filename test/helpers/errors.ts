/** Assertions on the coded errors every user-caused failure must raise. */
import { expect } from 'vitest';
import { DeltakitError, type ErrorCode } from '../../src/core/errors.js';

/** The DeltakitError `fn` throws, undefined when it throws nothing; any other exception propagates. */
export function errorOf(fn: () => unknown): DeltakitError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof DeltakitError) return e;
    throw e;
  }
  return undefined;
}

/** The code of what `fn` throws: undefined when nothing, 'not a DeltakitError' for anything else. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof DeltakitError ? e.code : 'not a DeltakitError';
  }
  return undefined;
}

/** Assert that `fn` throws a DeltakitError with `code` (and a message matching `msg`). */
export function expectCode(fn: () => unknown, code: ErrorCode, msg?: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a DeltakitError').toBeInstanceOf(DeltakitError);
  expect((err as DeltakitError).code).toBe(code);
  if (msg) expect((err as DeltakitError).message).toMatch(msg);
}
