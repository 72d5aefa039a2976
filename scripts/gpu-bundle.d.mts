// Types of scripts/gpu-bundle.mjs for the TypeScript tests that import it.
export declare const ARCHIVE: string;
export declare const MAX_MIB: number;
export declare function buildGpuBundle(opts?: { out?: string; level?: number; log?: (line: string) => void }): Promise<{ archive: string; mib: number; stage: string }>;
