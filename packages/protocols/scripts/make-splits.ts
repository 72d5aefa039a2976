// Regenerates packages/protocols/splits/*.json from SPLIT_DEFINITIONS (seeded, deterministic).
import { writeSplitFiles } from '../src/splits.ts';

for (const file of writeSplitFiles()) console.log(`wrote ${file}`);
