export * from './run_store.ts';
export { MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations.ts';
