// Shared mechanics of a backbone forward with taps, for the families that run stage by stage: every
// stage runs in its own tidy, the previous activation is freed eagerly when no gradient tape needs it
// (big inputs, e.g. 224x224 MobileNet maps), a tap hook may replace the map, and `keep` hands extra
// tensors (routing) out of the forward's tidy. Also the canonical -> native input conversion.
import { tf } from '../tf.ts';
import { taping } from './conv_bn.ts';
import type { InputContract, TapHook } from './backbone.ts';

export interface TapRunner {
  /** h = fn(h), in its own tidy */
  step(fn: (h: tf.Tensor4D) => tf.Tensor4D): void;
  /** offers the current map at `tap` to the hook */
  tap(name: string): void;
}

export function tappedForward(x: tf.Tensor4D, hook: TapHook | undefined, body: (run: TapRunner, x: tf.Tensor4D) => (h: tf.Tensor4D) => tf.Tensor2D): tf.Tensor2D {
  const kept: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => (kept.push(t), t);
  const grad = taping();
  const out = tf.tidy(() => {
    let h = x;
    const advance = (next: tf.Tensor4D) => {
      if (!grad && h !== x && h !== next && !kept.includes(h)) h.dispose();
      h = next;
    };
    const run: TapRunner = {
      step: (fn) => advance(tf.tidy(() => fn(h))),
      tap: (name) => {
        const r = hook?.(name, h, keep);
        if (r) advance(r);
      },
    };
    const head = body(run, x);
    return [tf.tidy(() => head(h)), ...kept];
  });
  return out[0] as tf.Tensor2D;
}

/** Per-RGB-channel affine taking our canonical input (RGB, (v - 127.5) / 127.5) to the network's native
 *  normalisation, still in RGB order: native[c'] = canonical[r] * scale[r] + shift[r], with c' the
 *  channel r lands on in `channelOrder` (BGR reverses the channels after the affine). */
export function canonicalToNative(input: InputContract): { scale: [number, number, number]; shift: [number, number, number]; reverse: boolean } {
  const { mean, std } = input.normalisation;
  const reverse = input.channelOrder === 'BGR';
  const at = (r: number) => (reverse ? 2 - r : r);
  const scale = [0, 1, 2].map((r) => 127.5 / std[at(r)]) as [number, number, number];
  const shift = [0, 1, 2].map((r) => (127.5 - mean[at(r)]) / std[at(r)]) as [number, number, number];
  return { scale, shift, reverse };
}

/** x [B,S,S,3] canonical -> the network's native input (affine, then channel reversal for BGR). */
export function toNativeInput(x: tf.Tensor4D, input: InputContract): tf.Tensor4D {
  const { scale, shift, reverse } = canonicalToNative(input);
  return tf.tidy(() => {
    const t = tf.add(tf.mul(x, tf.tensor1d(scale)), tf.tensor1d(shift)) as tf.Tensor4D; // [B,S,S,3] RGB, native scale
    return reverse ? (tf.reverse(t, -1) as tf.Tensor4D) : t;
  });
}
