// Builds the single-page app (src/web) into dist/web, which the fastify server serves.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import path from 'node:path';
import { DEFAULT_PORT } from './src/defaults.ts';

export default defineConfig({
  root: path.resolve(import.meta.dirname, 'src/web'),
  base: './',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: path.resolve(import.meta.dirname, 'dist/web'),
    emptyOutDir: true,
    sourcemap: false,
    // recharts + react in one chunk is ~600 kB; served locally, so no need to split it.
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': `http://127.0.0.1:${DEFAULT_PORT}` } },
});
