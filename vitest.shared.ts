// Shared vitest settings: every package writes a JSON report that scripts/run-tests.mjs sums up.
import { defineConfig } from 'vitest/config';
import path from 'node:path';

export function packageConfig(name: string, extra: { testTimeout?: number; include?: string[]; maxWorkers?: number } = {}) {
  const root = path.resolve(import.meta.dirname);
  return defineConfig({
    test: {
      include: extra.include ?? ['src/**/*.test.ts', 'src/**/*.test.tsx'],
      testTimeout: extra.testTimeout ?? 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
      // onnxruntime's telemetry off in every test process (the engine sets it too; core/src/engine/ort_env.ts)
      env: { ORT_DISABLE_TELEMETRY: process.env.ORT_DISABLE_TELEMETRY ?? '1' },
      // vitest's default is one worker per core but one (cores - 1 = 1 here); a package whose tests are
      // pure computation (no servers, leases or timeouts) asks for more
      ...(extra.maxWorkers ? { maxWorkers: extra.maxWorkers } : {}),
      reporters: ['default', 'json'],
      outputFile: { json: path.join(root, '.test-results', `${name}.json`) },
    },
  });
}
