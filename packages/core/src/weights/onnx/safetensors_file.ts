// Reads a PyTorch state dict saved as safetensors (`safetensors.torch.save_file(model.state_dict())`) into
// a float32 StateDict. Parsing, validation and dtype widening (F32/F16/BF16/F64; integer tensors such as
// BN's num_batches_tracked are skipped) are core's one safetensors reader (weights/safetensors.ts); this
// only drops DataParallel's `module.` prefix.
import { decodeSafetensorsFloat32 } from '../safetensors.ts';
import type { StateDict } from './insightface_layout.ts';

export function readSafetensorsStateDict(bytes: Uint8Array, source: string): { stateDict: StateDict; metadata: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensorsFloat32(bytes, source);
  const stateDict: StateDict = new Map();
  for (const [name, t] of tensors) stateDict.set(name.replace(/^module\./, ''), t);
  return { stateDict, metadata };
}
