// @ssmb/dashboard: fastify API over the run store + the React/recharts single-page app (src/web).
export { buildServer, DEFAULT_WEB_ROOT, type DashboardServer, type ServerOptions } from './server.ts';
export { accessPolicy, hostAllowed, isLoopback, generateToken, signLink, RULES, type Access, type AccessPolicy } from './access.ts';
export { ERRORS, ApiError, type ErrorCode } from './errors.ts';
export { openDashboardStore, type DashboardStore } from './store.ts';
export { storeLauncher, launchRoots, gridLines, type Launcher, type LaunchRoots, type LaunchResult } from './launch.ts';
export { ensureWebBuild, webBuildIsStale } from './build_web.ts';
export { DEFAULT_TABLES_DIR } from './table_configs.ts';
export * from './defaults.ts';
export { readTokenFile, serverSecrets } from './secrets.ts';
