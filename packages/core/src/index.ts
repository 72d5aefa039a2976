export { tf } from './tf.ts';
