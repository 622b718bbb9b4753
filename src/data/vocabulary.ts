/**
 * The corpora's names and words, in label order: what a trained model's classes mean. Free of
 * Node built-ins (the browser playground and the streaming recogniser use it).
 */

export type CorpusName = 'digits' | 'kws' | 'digit-strings';
export const CORPUS_NAMES: readonly CorpusName[] = ['digits', 'kws', 'digit-strings'];

/** Digit classes in TIDIGITS order: "zero".."nine", then "oh". */
export const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'oh'];
/** The ten speech-commands keywords. */
export const KWS_KEYWORDS = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'];
/** Words spoken for the "unknown" class (the speech-commands auxiliary words and digits). */
export const KWS_UNKNOWN_WORDS = ['bed', 'bird', 'cat', 'dog', 'happy', 'house', 'marvin', 'sheila', 'tree', 'wow', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'zero', 'learn', 'follow', 'forward', 'backward', 'visual'];

/**
 * Class names of a corpus, in label order.
 *
 * @example corpusClasses('kws') // ['yes', ..., 'go', '_unknown_', '_silence_']
 */
export function corpusClasses(name: CorpusName): string[] {
  return name === 'kws' ? [...KWS_KEYWORDS, '_unknown_', '_silence_'] : [...DIGIT_WORDS];
}
