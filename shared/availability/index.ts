// The availability engine (pure functions): open time, outages, coverage, corrections → figures.
// In shared/ because the report CLI, the collector's HTTP API and its daily rollups all call it, and
// it needs nothing but the shared school-hours model.
export * from './aggregate.ts';
export * from './annotations.ts';
export * from './engine.ts';
export * from './intervals.ts';
export * from './measured.ts';
export * from './periods.ts';
export * from './public-holidays.ts';
export * from './storage.ts';
