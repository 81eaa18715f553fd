// Placeholder until the collector issue lands its runtime.
export async function runCollectorCommand(_opts: { config: string }): Promise<number> {
  process.stderr.write('vigie collector: not built yet\n');
  return 1;
}
