// Engine choice for training and evaluation: `tfjs`, `onnxruntime`, or `auto` = onnxruntime when it
// loads and can express the model, else tfjs with the reason (logged and recorded by the caller).
export const ENGINE_CHOICES = ['auto', 'tfjs', 'onnxruntime'] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export type Chosen<T> = { engine: 'onnxruntime'; value: T } | { engine: 'tfjs'; reason: string };

/** Runs `create` for onnxruntime unless tfjs was asked for; with `auto`, any failure falls back to tfjs. */
export async function chooseEngine<T>(requested: EngineChoice, create: () => Promise<T>): Promise<Chosen<T>> {
  if (!(ENGINE_CHOICES as readonly string[]).includes(requested)) {
    throw new Error(`engine '${String(requested)}' is not an engine; expected one of ${ENGINE_CHOICES.join(', ')}`);
  }
  if (requested === 'tfjs') return { engine: 'tfjs', reason: 'tfjs was configured' };
  try {
    return { engine: 'onnxruntime', value: await create() };
  } catch (err) {
    if (requested === 'onnxruntime') throw err;
    return { engine: 'tfjs', reason: `onnxruntime unavailable: ${(err as Error).message}` };
  }
}
