// What a label may hold: the text of a school, commune, ISP, probe target, access point, SSID or
// interface name, which ends up as an InfluxDB tag value or string field and on the board. One rule,
// applied where the text enters (registry load, agent config, probe results) so that a value the
// store cannot keep is refused where a person can fix it, or normalised visibly — never found later
// as lost data.
//
// InfluxDB 1.x (measured against influxd 1.6.7, test/integration/labels-influx.test.ts) keeps any tag
// value except the empty one, one holding a line break (the line protocol ends there) and one ending
// with a backslash (its parser reads it as escaping the separator that follows, however many there
// are). The rule is stricter than the store: control characters (tab, carriage return...) and edge
// spaces are invisible on a board and split one school into two series, and decomposed accents
// (NFD, what macOS file names carry) make "École" two different tags.

/** Longest label, in characters (the wire schema's Label is 128; registry names go to 200). */
export const MAX_LABEL_CHARS = 200;

/** Placeholder for a label that normalises to nothing (only control characters, say). */
export const EMPTY_LABEL = '\uFFFD';

// Cc (C0, DEL, C1), plus the Unicode line and paragraph separators.
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
const CONTROL_RUNS = /[\s\p{Cc}\u2028\u2029]+/gu;

const CONTROL_NAMES: Record<string, string> = {
  '\t': 'a tab',
  '\n': 'a line break',
  '\r': 'a carriage return',
  '\u2028': 'a line separator (U+2028)',
  '\u2029': 'a paragraph separator (U+2029)',
};

const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why `text` is not a label as it stands, in words for the person who wrote it (English; callers
 * prefix the file, row and column or the config key), or null when it is one.
 * Checks, in order: empty, a control character (named, with its position from 1), a backslash at
 * the end, a space at either end, decomposed accents (not Unicode NFC), longer than MAX_LABEL_CHARS.
 */
export function labelProblem(text: string): string | null {
  if (text === '') return 'is empty';
  const m = CONTROL.exec(text);
  if (m) {
    const c = m[0];
    return `contains ${CONTROL_NAMES[c] ?? `a control character (${codePoint(c)})`} at character ${m.index + 1}`;
  }
  if (text.endsWith('\\')) return 'ends with a backslash (InfluxDB cannot store it)';
  if (text.trim() !== text) return 'starts or ends with a space';
  if (text.normalize('NFC') !== text) return 'has accents written as two characters (Unicode NFD)';
  if ([...text].length > MAX_LABEL_CHARS) return `is longer than ${MAX_LABEL_CHARS} characters`;
  return null;
}

/**
 * The label `text` stands for: NFC, each run of spaces and control characters one space, no space
 * at either end, no backslash at the end, at most MAX_LABEL_CHARS characters; EMPTY_LABEL when
 * nothing is left. labelProblem(normaliseLabel(x)) is null for every x; normaliseLabel(x) === x
 * when labelProblem(x) is null.
 */
export function normaliseLabel(text: string): string {
  if (labelProblem(text) === null) return text;
  let out = text.normalize('NFC').replace(CONTROL_RUNS, ' ').trim();
  const chars = [...out];
  if (chars.length > MAX_LABEL_CHARS) out = chars.slice(0, MAX_LABEL_CHARS).join('').trimEnd();
  out = out.replace(/[\s\\]+$/u, '');
  return out === '' ? EMPTY_LABEL : out;
}

/**
 * Normalises a label that came from a device or a probe (SNMP sysName, SSID, AP name...), counting
 * each one changed in `counts[what]` so the change is visible (agent status, logs).
 * @returns the label, normalised
 */
export function labelFromProbe(text: string, what: string, counts: Record<string, number>): string {
  const out = normaliseLabel(text);
  if (out !== text) counts[what] = (counts[what] ?? 0) + 1;
  return out;
}
