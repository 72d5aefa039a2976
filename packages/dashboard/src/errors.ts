// The dashboard's one catalogue of error codes (fastify style): every error response is
// { error: { code, message, field? } } with the status listed here, and every message says what went
// wrong and what to do. catalogue.test.ts keeps it in step with the code: every code the server sends is
// listed with the status it is sent with, every entry is reachable, the routes and commands the messages
// name exist, and docs/architecture.md lists the same codes.

export const ERRORS = {
  VALIDATION: { status: 400, message: 'Invalid request: fix the field named below and send it again.' },
  BAD_JSON: { status: 400, message: 'The request body is not valid JSON: send one JSON object.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the request body as JSON, with the header Content-Type: application/json.' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than 1 MiB: send fewer overrides or a smaller grid.' },
  UNKNOWN_CONFIG_KEY: {
    status: 400,
    message: 'Unknown or invalid config override: GET /api/config-keys lists every key with its type and default (dotted, e.g. ssmb.numExperts).',
  },
  BAD_SWEEP_GRID: { status: 400, message: 'The sweep grid could not be used: write one "key=v1,v2" axis per line (the syntax of `ssmb launch --grid`).' },
  SWEEP_TOO_LARGE: {
    status: 400,
    message: 'The sweep has more runs than this server queues at once: shrink the grid, or restart the server with `ssmb dashboard --max-sweep-runs N`.',
  },
  PATH_NOT_ALLOWED: {
    status: 400,
    message:
      "A path in the config is outside the folders this server lets runs use: runs write inside the store's folder (or an output root) and read " +
      'datasets and weights from there or from roots given at start (`ssmb dashboard --output-root DIR --data-root DIR --weights-root DIR`).',
  },
  TOKEN_REQUIRED: {
    status: 401,
    message: 'This request needs the token printed when `ssmb dashboard` started: send it as "Authorization: Bearer <token>" (the page has a token field).',
  },
  TOKEN_INVALID: { status: 401, message: 'The token does not match: use the one printed when `ssmb dashboard` started (or the fixed one it was given in SSMB_TOKEN or --token-file).' },
  WORKER_CREDENTIAL_REQUIRED: {
    status: 401,
    message:
      "The workers' API takes a worker's own credential, not the server's token: register with POST /api/worker/register (with the token) and send the credential it returns as \"Authorization: Bearer <credential>\" (`ssmb worker --server URL` does this itself).",
  },
  AUTH_RATE_LIMITED: { status: 429, message: 'Too many wrong tokens or credentials from this address: wait the seconds in the Retry-After header, then send the right one.' },
  WORKER_NOT_OWNER: { status: 403, message: 'This worker credential was issued to another worker: send the owner it was issued for (POST /api/worker/register returns both).' },
  HOST_NOT_ALLOWED: {
    status: 403,
    message:
      'This server does not answer to that Host name (a guard against DNS rebinding): open it at the address it printed, or restart it with `ssmb dashboard --allow-host NAME`.',
  },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'Changes are accepted only from pages this server served: the Origin header names another site.' },
  LINK_INVALID: { status: 403, message: 'This download link has expired or was altered (links last a minute): start the download again from the dashboard.' },
  RUN_NOT_FOUND: { status: 404, message: 'No run with this id: GET /api/runs lists the runs.' },
  LEASE_LOST: {
    status: 409,
    message:
      "This worker no longer holds the run: its lease expired and the run was re-queued or taken over by another worker (or it ended). Stop working on it; its next attempt resumes from the last stored checkpoint.",
  },
  UPLOAD_CONFLICT: {
    status: 409,
    message: "The upload's name is a folder, or lies under a file, in the run's folder: name a file (like checkpoints/step-00000020.ckpt) that is not a folder and not under another file.",
  },
  UPLOAD_QUOTA: {
    status: 413,
    message: "This run's uploads would pass the server's quota per run: prune checkpoints (checkpoint.keep), or restart the server with a larger `ssmb serve --run-upload-quota-gb N`.",
  },
  TOO_MANY_STREAMS: { status: 429, message: 'Too many open live-update streams (/api/events) from this address or in all: close other dashboard tabs, then reload.' },
  RUN_STATE: { status: 409, message: 'The run is not in a state that allows this (e.g. cancelling a finished run): reload it to see its status.' },
  ARTIFACT_NOT_FOUND: { status: 404, message: "No such file among this run's checkpoints and artifacts: GET /api/runs/:id/artifacts lists them." },
  PATH_OUTSIDE_STORE: { status: 403, message: "Files are served only from the run's own folder (and the outputs its config names): pass a path GET /api/runs/:id/artifacts lists." },
  PATH_OUTSIDE_RUN: {
    status: 400,
    message: "A run's files are recorded only inside its own folder (<store>/artifacts/run-<id>, or <outputDir>/run-<id>) or at an output its config names: upload the file instead.",
  },
  NOT_FOUND: { status: 404, message: 'No such endpoint: GET /api lists them.' },
  NO_RESULTS: { status: 404, message: 'Nothing to export: no evaluated run matches; widen the filters (experiment, method, archived) or evaluate runs first.' },
  BAD_FILTER: {
    status: 400,
    message: 'The filter or grouping names a key no run has, or is not "key op value" terms: write e.g. ssmb.numExperts=4 method=ssmb rank1>40 (ops = != < <= > >= ~; metrics in %).',
  },
  TOO_FEW_RUNS: { status: 400, message: 'Compare needs at least two run ids: pass ?ids=1,2.' },
  TABLE_NOT_FOUND: { status: 404, message: 'No table config with this name: GET /api/table-configs lists them.' },
  LAUNCH_UNAVAILABLE: { status: 503, message: 'This server was started without a launcher: queue runs with `ssmb launch`.' },
  STORE_UNAVAILABLE: { status: 503, message: 'The run store is busy or could not be read: retry in a moment; if it persists, check the store file the server was started with.' },
  INTERNAL: { status: 500, message: 'Unexpected server error: the server log has the details under this reference; the store was not modified.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class ApiError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly field?: string,
  ) {
    super(detail ? `${ERRORS[code].message} ${detail}` : ERRORS[code].message);
    this.statusCode = ERRORS[code].status;
  }
  toJSON(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

export function apiError(code: ErrorCode, detail?: string, field?: string): ApiError {
  return new ApiError(code, detail, field);
}
