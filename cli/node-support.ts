// Which Node.js lines are still maintained: the CLI warns when it runs on one past its end of life
// (install-agent.sh refuses such a line on a school's box; the CLI only warns, so a technician can
// still run a check on an old machine).

/**
 * End of life of each Node.js line, as YYYY-MM-DD (UTC), from the Node.js release schedule
 * (github.com/nodejs/Release, schedule.json): even lines are LTS for 30 months, odd lines live
 * 8 months. Lines older than the table are past theirs; lines newer than it are taken as maintained.
 */
export const NODE_END_OF_LIFE: Readonly<Record<number, string>> = {
  18: '2025-04-30',
  19: '2023-06-01',
  20: '2026-04-30',
  21: '2024-06-01',
  22: '2027-04-30',
  23: '2025-06-01',
  24: '2028-04-30',
  25: '2026-06-01',
  26: '2029-04-30',
};

/** The line Vigie recommends and ships with the agent (scripts/node-versions). */
export const RECOMMENDED_NODE_LINE = 24;

const lines = Object.keys(NODE_END_OF_LIFE).map(Number);
const OLDEST_LISTED = Math.min(...lines);
const NEWEST_LISTED = Math.max(...lines);

/**
 * The warning (English, then French; two lines ending in a newline) for a runtime past its end of
 * life at `now`, or null while it is maintained.
 * @param version `process.version` shape, `v20.20.2`; a version that does not parse gets no warning.
 */
export function nodeRuntimeWarning(version: string, now: Date): string | null {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (!Number.isInteger(major) || major > NEWEST_LISTED) return null;
  const eol = NODE_END_OF_LIFE[major];
  if (major >= OLDEST_LISTED && eol && now.getTime() < Date.parse(`${eol}T00:00:00Z`)) return null;
  const since = eol ? ` on ${eol}` : '';
  const depuis = eol ? ` depuis le ${eol}` : '';
  return (
    `vigie: warning: Node.js ${version} reached its end of life${since}: no more security fixes. ` +
    `Run Vigie on Node.js ${RECOMMENDED_NODE_LINE} (docs/deploy.md, "Node.js on the school's box").\n` +
    `vigie : attention : Node.js ${version} est en fin de vie${depuis} : plus de correctifs de sécurité. ` +
    `Faites tourner Vigie sous Node.js ${RECOMMENDED_NODE_LINE} (docs/deploy.md).\n`
  );
}

/**
 * Whether the CLI shows that warning: always to a person at a terminal, and for the long-running
 * agent and collector, whose stderr is their journal. Piped one-shot commands (scripts, tests
 * comparing output) stay quiet.
 * @param argv `process.argv` shape: [node, script, command, ...]
 */
export function showsRuntimeWarning(argv: readonly string[], stderrIsTty: boolean): boolean {
  return stderrIsTty || argv[2] === 'agent' || argv[2] === 'collector';
}

/**
 * mqtt.js calls url.parse(), which Node 24 deprecates (DEP0169) on every connect: a warning about a
 * library's internals that a technician cannot act on (and whose word "errors" reads as a failure).
 * Node's own printer is replaced by one that drops that code only; every other warning is printed as
 * Node prints it. Call once, at start.
 */
export function dropLibraryDeprecations(): void {
  process.removeAllListeners('warning');
  process.on('warning', (w: Error & { code?: string }) => {
    if (w.code === 'DEP0169') return;
    process.stderr.write(`(node:${process.pid}) ${w.code ? `[${w.code}] ` : ''}${w.name}: ${w.message}\n`);
  });
}
