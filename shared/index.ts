export * from './config.ts';
export * from './log.ts';
export * from './registry.ts';
export * from './schemas.ts';
export * from './topics.ts';
export * from './uai.ts';
export * from './validate.ts';
