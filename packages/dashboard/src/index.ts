// @ssmb/dashboard: fastify API over the run store + the React/recharts single-page app (src/web).
export { buildServer, DEFAULT_WEB_ROOT, type DashboardServer, type ServerOptions } from './server.ts';
export { authPolicy, isLoopback, generateToken, type AuthPolicy } from './auth.ts';
export { ERRORS, ApiError, type ErrorCode } from './errors.ts';
export { openDashboardStore, wrapStore, type DashboardStore } from './store.ts';
export { storeLauncher, gridLines } from './launch.ts';
export { ensureWebBuild, webBuildIsStale } from './build_web.ts';
