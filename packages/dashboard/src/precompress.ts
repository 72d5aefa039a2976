// Brotli and gzip copies of the built app's text assets: compressed once at build time at the highest
// levels, so the server sends them without compressing per request (@fastify/static, preCompressed).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const TEXT = /\.(js|css|html|svg|json)$/;

/** Writes FILE.br and FILE.gz beside each text asset under `dir`; returns the files compressed. */
export function precompress(dir: string): string[] {
  const done: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !TEXT.test(e.name)) continue;
    const file = path.join(e.parentPath, e.name);
    const body = readFileSync(file);
    writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }));
    writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
    done.push(file);
  }
  return done;
}
