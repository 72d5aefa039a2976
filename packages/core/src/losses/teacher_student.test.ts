import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.ts';
import { teacherStudentLoss } from './teacher_student.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('teacherStudentLoss', () => {
  it('matches the hand computation', () => {
    const sv = tf.tensor2d([[1, 0], [0, 1]]); // c(sv,tv) = [1, 0] -> first term mean(0, 1) = 0.5
    const tv = tf.tensor2d([[3, 0], [1, 0]]);
    const st = tf.tensor2d([[0, 1], [2, 0]]); // only pair 0 is genuine: 1 - c([0,1],[3,0]) = 1
    const before = tf.memory().numTensors;
    const l = teacherStudentLoss(sv, st, tv, [1, 0]);
    expect(l.dataSync()[0]).toBeCloseTo(1.5, 6);
    const none = teacherStudentLoss(sv, st, tv, [0, 0]); // no genuine pair: second term is 0
    expect(none.dataSync()[0]).toBeCloseTo(0.5, 6);
    const both = teacherStudentLoss(sv, st, tv, [1, 1]); // second pair: 1 - c([2,0],[1,0]) = 0 -> mean(1, 0)
    expect(both.dataSync()[0]).toBeCloseTo(1.0, 6);
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose([sv, tv, st, l, none, both]);
  });

  it('rejects a teacher batch of another shape', () => {
    const a = tf.zeros([2, 2]) as tf.Tensor2D;
    expect(() => teacherStudentLoss(a, a, tf.zeros([3, 2]) as tf.Tensor2D, [1, 0])).toThrow(/tv has shape \[3,2\]/);
    a.dispose();
  });
});
