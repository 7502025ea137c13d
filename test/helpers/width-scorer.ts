import { DEFAULT_DETECTOR_SETTINGS } from '../../src/extraction/detector-settings.js';
import { FeatureNormaliser } from '../../src/extraction/feature-normaliser.js';
import { QueryScorer } from '../../src/extraction/query-scorer.js';

/** A scorer with default settings for rows of `width` standard-scaled features (which detectors a width gets). */
export function scorerOfWidth(width: number): QueryScorer {
  return new QueryScorer(
    new FeatureNormaliser({
      scaling: { kind: 'standard', centre: new Array(width).fill(0), scale: new Array(width).fill(1) },
      projectAbove: 64,
      projectTo: 64,
      seed: 7,
    }),
    DEFAULT_DETECTOR_SETTINGS,
    1,
  );
}
