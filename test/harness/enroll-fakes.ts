// A stand-in for enrollment's credential issuer in unit tests: predictable passwords and hashes
// (hashing for real takes ~100 ms each), numbered across the test file.
import type { Credential } from '../../deploy/enrollment.ts';

export function fakeIssuer(): (username: string, now: Date) => Credential {
  let serial = 0;
  return (username, now) => {
    serial++;
    return {
      username,
      password: `pw-${username}-${serial}`,
      hash: `$7$101$x$${serial}`,
      issuedAt: now.toISOString(),
    };
  };
}
