/**
 * Extracts the example lines of the ```wire blocks in docs/protocol.md.
 * @param {string} markdown
 * @returns {{kind: 'C'|'S'|'X', code?: string, text: string, line: number}[]}
 */
export function parseWireExamples(markdown) {
  const out = [];
  let inWire = false;
  markdown.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (/^```wire\s*$/.test(line)) inWire = true;
    else if (inWire && line.startsWith('```')) inWire = false;
    else if (inWire) {
      const m = /^([CSX])> (?:([a-z_]+) )?(.*)$/.exec(line);
      if (!m) return;
      const [, kind, code, text] = m;
      // Only X lines carry an error code before the frame; a C/S frame always starts with '{'.
      if (kind === 'X') out.push({ kind, code, text, line: i + 1 });
      else out.push({ kind, text: code ? `${code} ${text}` : text, line: i + 1 });
    }
  });
  return out;
}
