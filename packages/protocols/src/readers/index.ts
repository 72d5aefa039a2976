// Reader registry: spec files name a reader; new datasets register theirs here or via registerReader().
import { casiaReader } from './casia.ts';
import { mcxfaceReader } from './mcxface.ts';
import { polathermalReader } from './polathermal.ts';
import type { DatasetReader } from './reader.ts';
import { syntheticReader } from './synthetic.ts';
import { tuftsReader } from './tufts.ts';

const readers = new Map<string, DatasetReader>();

export function registerReader(reader: DatasetReader): void {
  readers.set(reader.name, reader);
}

export function getReader(name: string): DatasetReader {
  const r = readers.get(name);
  if (!r) throw new Error(`unknown dataset reader '${name}'; known readers: ${[...readers.keys()].sort().join(', ')}`);
  return r;
}

export function listReaders(): DatasetReader[] {
  return [...readers.values()].sort((a, b) => a.name.localeCompare(b.name));
}

for (const r of [casiaReader, tuftsReader, polathermalReader, mcxfaceReader, syntheticReader]) registerReader(r);
