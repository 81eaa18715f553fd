// The whole config file: one section per process, any of them may be absent.
import Type from 'typebox';
import { AgentConfig } from '../agent/config.ts';
import { CollectorConfig } from '../collector/config.ts';
import { loadConfigFile } from '../shared/config.ts';

export const VigieConfig = Type.Object(
  {
    agent: Type.Optional(AgentConfig),
    collector: Type.Optional(CollectorConfig),
  },
  { additionalProperties: false },
);
export type VigieConfig = Type.Static<typeof VigieConfig>;

export const loadVigieConfig = (file: string, env: NodeJS.ProcessEnv = process.env) =>
  loadConfigFile(file, VigieConfig, env);
