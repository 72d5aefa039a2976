export * from './run_store.ts';
export { MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations.ts';
export * from './worker_ops.ts';
export { HttpStore, HttpStoreError, type HttpStoreOptions } from './http/http_store.ts';
export { networkReason, readAnswer, serverBase, serverCall, ServerError, type ServerCallOptions } from './http/server_call.ts';
export { Outbox, type OutboxEntry, type OutboxState } from './http/outbox.ts';
export * from './worker_buffers.ts';
