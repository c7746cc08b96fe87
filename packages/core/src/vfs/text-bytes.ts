// Pseudo-file text with raw bytes in it: seq_printf("%s") of a user-set name copies bytes
// verbatim, whatever their encoding.

/** Text as the bytes a pseudo file holds: strings as UTF-8, byte arrays verbatim. */
export type TextBytes = string | Uint8Array;

const encoder = new TextEncoder();

/** Concatenates text pieces into one string, or into bytes when any piece is bytes. */
export function textBytes(...parts: TextBytes[]): TextBytes {
  if (parts.every((p) => typeof p === "string")) return parts.join("");
  const chunks = parts.map((p) => (typeof p === "string" ? encoder.encode(p) : p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The bytes of a text. */
export function toBytes(text: TextBytes): Uint8Array {
  return typeof text === "string" ? encoder.encode(text) : text;
}
