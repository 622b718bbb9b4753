/**
 * CSV of sweep rows: a header line, then one line per point, written as points finish so an
 * interrupted sweep keeps what it did. Fields with commas or quotes are quoted (RFC 4180).
 */

function field(v: unknown): string {
  const s = v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (no newline). */
export function csvLine(values: unknown[]): string {
  return values.map(field).join(',');
}

/**
 * Parse CSV text into header and records (quoted fields supported).
 *
 * @example parseCsv('a,b\n1,2\n') // { header: ['a','b'], rows: [{a:'1', b:'2'}] }
 */
export function parseCsv(text: string): { header: string[]; rows: Array<Record<string, string>>; fieldCounts: number[] } {
  const records: string[][] = [];
  let cur: string[] = [];
  let f = '';
  let quoted = false;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          f += '"';
          i++;
        } else quoted = false;
      } else f += ch;
      continue;
    }
    if (ch === '"') {
      quoted = true;
      any = true;
    } else if (ch === ',') {
      cur.push(f);
      f = '';
      any = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      if (any || f !== '') {
        cur.push(f);
        records.push(cur);
      }
      cur = [];
      f = '';
      any = false;
    } else {
      f += ch;
      any = true;
    }
  }
  if (any || f !== '') {
    cur.push(f);
    records.push(cur);
  }
  const header = records[0] ?? [];
  const rows = records.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
  // How many fields each row had (a short or long row is mapped onto the header all the same).
  return { header, rows, fieldCounts: records.slice(1).map((r) => r.length) };
}
