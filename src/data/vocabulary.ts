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
 * Sentences without any keyword (nor a homophone of one: know, write, too), for the natural
 * non-keyword stream: what a keyword spotter hears most of the day, read speech around it.
 */
export const KWS_SENTENCES = [
  'the weather was warm and the sky was clear for most of the week',
  'she bought bread and cheese and a bottle of milk at the market',
  'please send me the report before the meeting starts tomorrow',
  'the children were playing in the garden after school',
  'we had dinner with our friends at a small restaurant by the river',
  'the train to the city leaves every half hour from platform three',
  'he has been working in the same office for almost ten years',
  'the museum is closed for repairs until the end of the month',
  'my sister plays the piano better than anyone in the family',
  'they painted the kitchen a pale shade of green last summer',
  'the library has thousands of books about history and science',
  'could you tell me where the nearest pharmacy is',
  'a cold wind was blowing across the fields all afternoon',
  'the new bridge will be finished by the middle of next year',
  'our neighbour has a large black cat that sleeps in the sun',
  'i think the coffee in this place tastes better than at home',
  'the students are preparing for their final exams in the spring',
  'it was raining heavily when we arrived at the station',
  'the doctor said that she should rest for a few days',
  'there is a beautiful old church in the centre of the village',
  'the phone rang three times before anybody answered it',
  'we watched a film about a family that lived by the sea',
  'the company hired twelve new engineers this year',
  'her favourite colour is blue and she wears it every day',
  'the cake was delicious and everybody asked for the recipe',
  'the airport was crowded with people waiting for their flights',
  'he read the newspaper while drinking a cup of tea',
  'the farmer grows wheat and potatoes and apples in his fields',
  'this street becomes very quiet late in the evening',
  'the teacher explained the lesson with many examples',
];

/**
 * Other sentences of the same kind, for the training split only (`sentences: true` on train): a
 * model that learns from them is measured on KWS_SENTENCES, which it never heard.
 */
export const KWS_TRAIN_SENTENCES = [
  'the old man walked slowly along the beach every morning',
  'my brother works as a nurse in the hospital near the park',
  'we planted tomatoes and beans in the garden this spring',
  'the concert was cancelled because the singer was ill',
  'she likes to read mystery novels before she falls asleep',
  'the bakery sells fresh bread and sweet cakes every day',
  'a small boat was sailing across the calm blue lake',
  'the hotel has a pool and a restaurant with a view of the hills',
  'he forgot his umbrella and came home wet through',
  'the price of petrol has risen again this month',
  'our teacher gave us a lot of homework for the weekend',
  'the dog barked at the postman when he came to the door',
  'the flowers in the vase need fresh water',
  'they moved to a bigger house with a garden for the children',
  'the film was longer than we expected but very funny',
  'my grandmother makes the best soup in the world',
  'the market square was full of people and music',
  'please remember to bring your passport and your tickets',
  'the river flooded the fields after three days of rain',
  'he is learning to play the guitar with a friend',
  'the shop at the corner closes at eight in the evening',
  'we spent the holiday visiting castles and small villages',
  'the baby was sleeping quietly in her cot',
  'the engineers tested the new machine for several weeks',
  'a strong smell of coffee came from the kitchen',
  'the bus was late and we missed the first lesson',
  'her father built the wooden table himself',
  'the mountains were covered with snow in the winter',
  'the manager thanked the team for their hard work',
  'i would like a glass of water and a sandwich please',
  'the birds were singing in the trees at dawn',
  'the city council will discuss the plan next week',
  'she wrote a long letter to her friend in canada',
  'the garden behind the school is full of roses',
  'we waited for the rain to pass before we walked home',
  'the museum guide told us about the ancient kings',
  'his car needs new tyres before the long journey',
  'the students listened carefully to the lecture',
  'there was a long queue in front of the cinema',
  'the cook added salt and pepper to the sauce',
];

/**
 * Class names of a corpus, in label order.
 *
 * @example corpusClasses('kws') // ['yes', ..., 'go', '_unknown_', '_silence_']
 */
export function corpusClasses(name: CorpusName): string[] {
  return name === 'kws' ? [...KWS_KEYWORDS, '_unknown_', '_silence_'] : [...DIGIT_WORDS];
}
