// Placeholder until the agent issue lands its runtime.
export async function runAgentCommand(_opts: {
  config: string;
  once?: boolean;
  json?: boolean;
}): Promise<number> {
  process.stderr.write('vigie agent: not built yet\n');
  return 1;
}
