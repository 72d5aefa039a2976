// Types of scripts/system-deps.mjs for the TypeScript tests that import it.
export declare const PACKAGES_FILE: string;
export interface SystemPackage {
  name: string;
  why: string;
}
export declare function readPackageList(file?: string): SystemPackage[];
export declare function isInstalled(name: string): boolean;
export declare function ensureSystemPackages(opts?: { packages?: SystemPackage[]; log?: (line: string) => void }): {
  ok: boolean;
  installed: string[];
  missing: string[];
  message?: string;
};
