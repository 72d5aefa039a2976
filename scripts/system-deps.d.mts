// Types of scripts/system-deps.mjs for the TypeScript tests that import it.
export declare const PACKAGES_FILE: string;
export interface SystemPackage {
  name: string;
  why: string;
  /** at least this version (dpkg's ordering) */
  min?: string;
  /** 'backports': from the release's backports suite */
  suite?: string;
}
export interface AptEntry {
  uris: string[];
  suites: string[];
  components: string[];
  signedBy: string;
}
export declare const BACKPORTS_FILE: string;
export declare function parseAptSources(files: { path: string; text: string }[]): AptEntry[];
export declare function backportsSource(machine: { osReleaseText: string; sources: { path: string; text: string }[] }):
  { suite: string; text: string; present?: undefined; error?: undefined } | { suite: string; present: true; text?: undefined; error?: undefined } | { error: string; suite?: undefined; text?: undefined; present?: undefined };
export declare function readPackageList(file?: string): SystemPackage[];
export declare function isInstalled(name: string, min?: string): boolean;
export declare function ensureSystemPackages(opts?: {
  packages?: SystemPackage[];
  log?: (line: string) => void;
  /** the machine's os-release and apt sources (default: read from /etc) */
  sources?: () => { osReleaseText: string; sources: { path: string; text: string }[] };
  /** where a derived backports source is written (default BACKPORTS_FILE) */
  backportsFile?: string;
}): {
  ok: boolean;
  installed: string[];
  missing: string[];
  message?: string;
};
