// The dashboard's one catalogue of error codes. Every message says what went wrong and what to do.
// Routes throw `apiError(code, details)`; the server's error handler turns it into a 4xx/5xx JSON body
// { error: { code, message, field? } }.

export const ERRORS = {
  VALIDATION: { status: 400, message: 'Invalid request: fix the field named below and send it again.' },
  BAD_JSON: { status: 400, message: 'The request body is not valid JSON: send a JSON object with Content-Type application/json.' },
  UNKNOWN_CONFIG_KEY: { status: 400, message: 'Unknown config key: use a key listed by GET /api/config-keys (dotted, e.g. ssmb.numExperts).' },
  BAD_SWEEP_GRID: { status: 400, message: 'The sweep grid could not be parsed: write one "key=v1,v2" per line (same syntax as `ssmb sweep`).' },
  TOKEN_REQUIRED: { status: 401, message: 'This endpoint changes data and the server is reachable from the network: send the token printed at start as "Authorization: Bearer <token>".' },
  TOKEN_INVALID: { status: 403, message: 'The token does not match: use the token printed when `ssmb dashboard serve` started (or the one given with --token).' },
  READ_AUTH: { status: 401, message: 'The server is bound to a non-loopback address: send the token as "Authorization: Bearer <token>" or ?token=.' },
  RUN_NOT_FOUND: { status: 404, message: 'No run with this id: list runs with GET /api/runs.' },
  ARTIFACT_NOT_FOUND: { status: 404, message: 'No such artifact in this run\'s folders: list them with GET /api/runs/:id/artifacts.' },
  PATH_OUTSIDE_STORE: { status: 403, message: 'Artifacts are served only from the store\'s own folders: pass a path relative to the run\'s artifact folder without "..".' },
  NOT_FOUND: { status: 404, message: 'No such endpoint: see GET /api for the list.' },
  NO_RESULTS: { status: 404, message: 'Nothing to export: no evaluated run matches; widen the filters (experiment, method, archived) or evaluate runs first.' },
  TOO_FEW_RUNS: { status: 400, message: 'Compare needs at least two run ids: pass ?ids=1,2.' },
  STORE_UNAVAILABLE: { status: 503, message: 'The run store could not be read: check that --store points to an existing SQLite file written by the trainer.' },
  INTERNAL: { status: 500, message: 'Unexpected server error: see the server log; the store was not modified.' },
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
