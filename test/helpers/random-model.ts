/** Seeded random models and streams for tests (the same generators users get from the API). */
export { randomModel, smoothStream, type LayerRecipe } from '../../src/model/random.js';
