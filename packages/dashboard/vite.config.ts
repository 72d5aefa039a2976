// Builds the single-page app (src/web) into dist/web, which the fastify server serves.
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import path from 'node:path';
import { DEFAULT_PORT } from './src/defaults.ts';
import { precompress } from './src/precompress.ts';

/** Writes .br and .gz beside every script, style and page, which @fastify/static serves (preCompressed). */
const precompressPlugin = (): Plugin => ({
  name: 'ssmb-precompress',
  apply: 'build',
  closeBundle: () => void precompress(path.resolve(import.meta.dirname, 'dist/web')),
});

export default defineConfig({
  root: path.resolve(import.meta.dirname, 'src/web'),
  base: './',
  plugins: [react(), precompressPlugin()],
  logLevel: 'warn',
  build: {
    outDir: path.resolve(import.meta.dirname, 'dist/web'),
    emptyOutDir: true,
    sourcemap: false,
    // Views are loaded on first visit (App.tsx); recharts and react end up in a shared chunk.
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': `http://127.0.0.1:${DEFAULT_PORT}` } },
});
