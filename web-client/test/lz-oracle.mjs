// Differential oracle for the Java LZ-String codec (LzStringDifferentialTest): the npm package is
// the reference. One JSON object per line in, one per line out, in order:
//   in:  {"s": text, "base64": java's compressToBase64(s), "raw": java's compress(s), "utf16": java's compressToUTF16(s)}
//   out: {"base64": js compressToBase64(s), "raw": js compress(s), "utf16": js compressToUTF16(s),
//         "fromBase64": js decompressFromBase64(java base64), "fromRaw": js decompress(java raw),
//         "fromUtf16": js decompressFromUTF16(java utf16)}
// JSON.stringify escapes lone surrogates, so every string survives the trip exactly.
import { createInterface } from 'node:readline';
import LZString from 'lz-string';

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
let out = [];
for await (const line of lines) {
  const q = JSON.parse(line);
  out.push(JSON.stringify({
    base64: LZString.compressToBase64(q.s),
    raw: LZString.compress(q.s),
    utf16: LZString.compressToUTF16(q.s),
    fromBase64: LZString.decompressFromBase64(q.base64),
    fromRaw: LZString.decompress(q.raw),
    fromUtf16: LZString.decompressFromUTF16(q.utf16),
  }));
  if (out.length >= 256) {
    process.stdout.write(out.join('\n') + '\n');
    out = [];
  }
}
if (out.length > 0) {
  process.stdout.write(out.join('\n') + '\n');
}
