// The agent's version, from package.json (bundled in by esbuild, read by tsx).
import pkg from '../package.json' with { type: 'json' };

export const AGENT_VERSION: string = pkg.version;
