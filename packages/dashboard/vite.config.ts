// Builds the single-page app (src/web) into dist/web, which the fastify server serves.
import { defineConfig, type Plugin } from 'vite';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import path from 'node:path';
import { DEFAULT_PORT } from './src/defaults.ts';

/** Writes .br and .gz beside each built asset; the server sends them to browsers that accept them. */
function precompress(outDir: string): Plugin {
  return {
    name: 'ssmb-precompress',
    apply: 'build',
    closeBundle() {
      const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
      for (const f of walk(outDir).filter((x) => /\.(js|css|html|svg)$/.test(x))) {
        const raw = readFileSync(f);
        writeFileSync(`${f}.br`, brotliCompressSync(raw));
        writeFileSync(`${f}.gz`, gzipSync(raw, { level: 9 }));
      }
    },
  };
}
const OUT = path.resolve(import.meta.dirname, 'dist/web');

export default defineConfig({
  root: path.resolve(import.meta.dirname, 'src/web'),
  base: './',
  plugins: [react(), precompress(OUT)],
  logLevel: 'warn',
  build: {
    outDir: OUT,
    emptyOutDir: true,
    sourcemap: false,
    // Each view is its own chunk (App.tsx loads them lazily); react and recharts are shared vendor chunks,
    // so the runs list does not wait for the charting library.
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        // Libraries load with the pages that use them: the runs list's virtual list (@tanstack) and the
        // embedding map's projection (umap-js) are chunks of their own, so neither brings the charting
        // library, and the projection loads only when a map is first drawn.
        manualChunks: (id: string) => (/node_modules\/(react|react-dom|scheduler)\//.test(id) ? 'react'
          : id.includes('node_modules/@tanstack/') ? 'vendor-list'
          : /node_modules\/(umap-js|ml-[\w-]+|is-any-array|seedrandom)\//.test(id) ? 'vendor-umap'
          : id.includes('node_modules/') ? 'vendor-charts' : undefined),
      },
    },
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': `http://127.0.0.1:${DEFAULT_PORT}` } },
});
