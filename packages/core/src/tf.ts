// The one place that loads TensorFlow.js. The union package's CommonJS entry registers every gradient
// (tfjs-core's own CommonJS entry does not), and it shares the single tfjs-core engine instance.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';

export { tf };
/** tfjs-converter's graph-model loader (the reference runner for package models such as faceres). */
export { loadGraphModel } from '@tensorflow/tfjs';
export type Tensor = tf.Tensor;
