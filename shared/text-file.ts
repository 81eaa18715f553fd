// Text files people edit (config, school registry) decoded strictly: UTF-8, with or without a BOM,
// or UTF-16 with its BOM (Excel's "Texte Unicode"). Anything else is refused with where and how to fix
// it, never read with U+FFFD in place of every accented letter (school names become InfluxDB tags).
import { readFileSync } from 'node:fs';

export class TextFileError extends Error {
  constructor(
    readonly file: string,
    /** Where and what, without the file name: `line 3, column 9: not UTF-8 …`. */
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'TextFileError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface DecodeOptions {
  /**
   * Quote the offending line (read as Windows-1252) in the error. Off for files that may hold secrets
   * (config): the error then names the line's key only.
   */
  quoteLine?: boolean;
}

/**
 * Decodes bytes read from `file` (named in errors): UTF-8 (BOM dropped) or UTF-16 LE/BE with a BOM.
 * Throws TextFileError naming the line and column of the first byte that is not UTF-8, what that line
 * reads as Windows-1252 (what French Excel writes) when `quoteLine`, and how to convert the file.
 */
export function decodeText(file: string, bytes: Uint8Array, opts: DecodeOptions = {}): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new TextFileError(file, notUtf8(file, bytes, opts.quoteLine ?? false));
  }
}

/** Reads a whole text file with decodeText; an unreadable file throws the fs error as it is. */
export function readTextFile(file: string, opts: DecodeOptions = {}): string {
  return decodeText(file, readFileSync(file), opts);
}

function notUtf8(file: string, bytes: Uint8Array, quoteLine: boolean): string {
  const loose = new TextDecoder('utf-8').decode(bytes);
  const at = loose.indexOf('\uFFFD');
  const lineStart = loose.lastIndexOf('\n', at) + 1;
  const line = loose.slice(0, at).split('\n').length;
  const column = at - lineStart + 1;
  // The same line, read as Windows-1252: the installer recognises it and sees the letters are right.
  const rawLines = Buffer.from(bytes).toString('latin1').split('\n');
  const asCp1252 = new TextDecoder('windows-1252')
    .decode(Buffer.from(rawLines[line - 1] ?? '', 'latin1'))
    .replace(/\r$/, '');
  const shown = asCp1252.length > 80 ? `${asCp1252.slice(0, 77)}...` : asCp1252;
  const base = file.split('/').pop() ?? file;
  const where = `line ${line}, column ${column}: the file is not UTF-8`;
  const convert = `iconv -f WINDOWS-1252 -t UTF-8 ${base} > utf8-${base}`;
  if (quoteLine && /\.(csv|txt)$/i.test(file))
    return (
      `${where}; it looks saved as Windows-1252 (Excel's "CSV (séparateur : point-virgule)"), where this ` +
      `line reads "${shown}". Save it again as "CSV UTF-8 (délimité par des virgules)" ` +
      `(Fichier > Enregistrer sous), or convert it: ${convert}`
    );
  const key = /^\s*-?\s*([^\s:#]+)\s*:/.exec(asCp1252)?.[1];
  const about = quoteLine
    ? `as Windows-1252 this line reads "${shown}"`
    : key
      ? `in the value of ${key}`
      : '';
  return `${where}${about ? `; ${about}` : ''}. Save it as UTF-8 in your editor, or convert it: ${convert}`;
}
