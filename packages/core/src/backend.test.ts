import { afterEach, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { tf } from './tf.ts';
import { activeEngine, engineInfo, initBackend, parseEngineName } from './backend.ts';

const savedEnv = process.env.SSMB_BACKEND;
const nodeRequire = createRequire(import.meta.url);

function installed(pkg: string): boolean {
  try {
    nodeRequire.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => {
  if (savedEnv === undefined) delete process.env.SSMB_BACKEND;
  else process.env.SSMB_BACKEND = savedEnv;
});

describe('initBackend', () => {
  it('falls back gpu -> node -> wasm when the native packages are missing, and records why', async () => {
    delete process.env.SSMB_BACKEND;
    const asked: string[] = [];
    const missing = (name: string) => {
      asked.push(name);
      const err = new Error(`Cannot find module '${name}'`) as Error & { code: string };
      err.code = 'MODULE_NOT_FOUND';
      throw err;
    };
    expect(await initBackend({ requireModule: missing })).toBe('wasm');
    expect(asked).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    expect(tf.getBackend()).toBe('wasm');
    const info = engineInfo();
    expect(info.tried.map((t) => [t.engine, t.ok])).toEqual([['tensorflow-gpu', false], ['tensorflow', false], ['wasm', true]]);
    expect(info.tried[0].reason).toMatch(/^MODULE_NOT_FOUND: Cannot find module '@tensorflow\/tfjs-node-gpu'/);
    expect(info.description).toMatch(/^wasm \((simd|no simd), \d+ threads?\)$/);
    expect(info.forced).toBe(false);
    // picked once: a second call neither reloads nor changes the choice
    expect(await initBackend({ requireModule: missing })).toBe('wasm');
    expect(asked).toHaveLength(2);
    expect(activeEngine()).toBe('wasm');
  });

  it('with the real require, picks wasm here because the optional native packages are absent', async () => {
    if (installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu')) return; // other machines
    expect(() => nodeRequire('@tensorflow/tfjs-node')).toThrow(expect.objectContaining({ code: 'MODULE_NOT_FOUND' }));
    expect(await initBackend()).toBe('wasm');
  });

  it('SSMB_BACKEND=cpu forces the cpu backend', async () => {
    process.env.SSMB_BACKEND = 'cpu';
    expect(await initBackend()).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(engineInfo()).toMatchObject({ engine: 'cpu', backendName: 'cpu', forced: true });
    // switching back by forcing wasm works too, and the wasm conv gradients are in place
    expect(await initBackend({ prefer: 'wasm' })).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('an unknown forced name fails naming it and the accepted values', async () => {
    process.env.SSMB_BACKEND = 'tpu';
    await expect(initBackend()).rejects.toThrow("SSMB_BACKEND='tpu' is not a known backend; expected one of gpu, node, wasm, cpu");
    expect(() => parseEngineName('webgpu', 'prefer')).toThrow(/prefer='webgpu'/);
  });

  it('a forced engine that cannot load fails naming the package and why, keeping the current engine', async () => {
    const before = await initBackend({ prefer: 'wasm' });
    const missing = (name: string) => {
      throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
    };
    await expect(initBackend({ prefer: 'gpu', requireModule: missing })).rejects.toThrow(
      /backend 'gpu' was forced .* @tensorflow\/tfjs-node-gpu cannot be used: MODULE_NOT_FOUND/);
    expect(activeEngine()).toBe(before);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('concurrent first calls share one pick', async () => {
    delete process.env.SSMB_BACKEND;
    const [a, b] = await Promise.all([initBackend(), initBackend()]);
    expect(a).toBe(b);
  });
});
