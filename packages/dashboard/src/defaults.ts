// The dashboard's defaults, each defined once. Pure (no imports): the vite config and the CLI read them.

/** TCP port `ssmb dashboard` (and the quickstart, and vite's dev proxy) uses unless told otherwise. */
export const DEFAULT_PORT = 7077;
/** Loopback: nothing leaves the machine unless --host says so. */
export const DEFAULT_HOST = '127.0.0.1';
/** Largest sweep the Launch page queues (`--max-sweep-runs`): a typo in a grid should not queue 10,000 runs. */
export const DEFAULT_MAX_SWEEP_RUNS = 256;
/** How long a signed download link stays valid. */
export const SIGNED_LINK_TTL_MS = 60_000;
/** Request body limit (launch bodies are small; a grid is text). */
export const BODY_LIMIT = 1 << 20;
/** Largest worker write batch (metric points in columns) and upload (a checkpoint, a backbone) the worker API takes. */
export const WORKER_BODY_LIMIT = 64 << 20;
export const WORKER_UPLOAD_LIMIT = 8 * 1024 ** 3;
/** How often the server re-queues runs whose lease expired (stale runs). */
export const REAP_EVERY_MS = 5_000;
/**
 * After the server starts it waits this long before re-queueing expired leases: while it was down its
 * workers could not renew them, and they reconnect within a lease (default 60 s).
 */
export const STALE_GRACE_MS = 60_000;
/** Metrics of a table grouped by a config key (no table config): the paper's usual four. */
export const DEFAULT_TABLE_METRICS = ['rank1', 'tar_far_1e2', 'tar_far_1e3', 'eer'];
/** Protocols x metrics side by side fits about this many cells (a 1440-px window, a paper column); past
 *  that a table is shown and exported as one table per metric. */
export const WIDE_TABLE_CELLS = 10;
