// Base64 as the protocol writes it: the standard alphabet, with padding, no
// whitespace. Node's decoder is lenient (it skips characters it does not know,
// accepts base64url and missing padding), so a string could decode to bytes
// other than the ones a strict reader sees; this one accepts a string only if
// it is the exact encoding of the bytes it decodes to.

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes, or undefined when `text` is not canonical standard base64. */
export function decodeStrictBase64(text: string): Buffer | undefined {
  if (!STANDARD_BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  // The round trip rejects non-zero bits in the unused tail of the last group,
  // which the regex cannot see ("QR==" and "QQ==" would both decode to "A").
  return bytes.toString('base64') === text ? bytes : undefined;
}
