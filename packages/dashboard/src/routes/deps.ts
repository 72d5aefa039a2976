// What every route group gets from the server.
import type { AccessPolicy } from '../access.ts';
import type { ChangeFeed } from '../events.ts';
import type { Launcher, LaunchRoots } from '../launch.ts';
import type { DashboardStore } from '../store.ts';

export interface RouteDeps {
  store: DashboardStore;
  feed: ChangeFeed;
  policy: AccessPolicy;
  /** The store's own files (the SQLite file, the server's secrets): never recorded or served as a run's file. */
  storeFiles: string[];
  /** Bytes one run's uploads may hold. */
  runUploadQuota: number;
  /** Folders launched runs may use (shown on the Launch page). */
  roots: LaunchRoots;
  maxSweepRuns: number;
  /** Table configs (tables/*.yaml); null = none. */
  tablesDir: string | null;
  launcher?: Launcher;
  /** The registered endpoints, "METHOD /path" (GET /api lists them). */
  endpoints(): string[];
}
