// What the agents' speed test may move, agreed by both ends: the collector serves and accepts at most
// SPEEDTEST_MAX_BYTES by default and says its own limit on every answer (LIMITS_HEADER); the agent's
// default cap is the same figure, and it never sends more than the server said it accepts.

/**
 * Default cap of one direction of one speed test, bytes: 100 MiB, ~8 s at 100 Mbit/s, enough for a
 * 10 s test on the schools' links (fibre above 100 Mbit/s stops at the cap, its rate still measured).
 */
export const SPEEDTEST_MAX_BYTES = 100 * 1024 * 1024;

/**
 * On every answer after authorization, e.g. `max-bytes=104857600, idle-s=15, total-s=120, per-client=2,
 * concurrent=4` (a structured-field dictionary, RFC 9651; a key is absent when unlimited): what an
 * agent may ask for. max-bytes bounds a download and an upload; idle-s and total-s are the cuts.
 */
export const LIMITS_HEADER = 'vigie-speedtest-limits';

/** Parses LIMITS_HEADER into numbers by key; unknown or malformed members are skipped. */
export function parseSpeedtestLimits(header: string | null | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const member of (header ?? '').split(',')) {
    const [key, value] = member.trim().split('=');
    if (key && value !== undefined && /^\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}
