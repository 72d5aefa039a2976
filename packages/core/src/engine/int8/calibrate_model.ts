// Calibration of a model for the int8 graphs: its engine embedding graph instrumented (calibrate.ts) and
// run over the images.
import { buildInferenceGraph, type EngineModel } from '../student_graph.ts';
import type { EngineBackbone } from '../backbone_graph.ts';
import { calibrateGraph, checkCalibrationSets, type CalibrateOptions, type Calibration, type CalibrationSet } from './calibrate.ts';

/** The activation ranges of `model` (the backbone alone, or with its SSMB blocks as they are now) over
 *  the calibration images of every modality; fewer images than `opts.batch` are refused with the count. */
export async function calibrateModel(model: EngineModel | { backbone: EngineBackbone }, sets: CalibrationSet[], opts: CalibrateOptions & { foldBn?: boolean }): Promise<Calibration> {
  checkCalibrationSets(sets, model.backbone.input.size, opts.batch); // before the graph is built
  const g = buildInferenceGraph(model, { foldBn: opts.foldBn, calibrationOutputs: true });
  return calibrateGraph(g.bytes, g.calibrated!, g.imageSize, sets, opts);
}
