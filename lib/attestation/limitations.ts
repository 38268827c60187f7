// What a verified quote does not prove, said with every result so that no
// caller reads more into `verified: true` than it holds.

export const EPHEMERAL_AIK_LIMITATION =
  "The attestation key (AIK) is ephemeral and nothing in the report binds it to the TPM's endorsement key " +
  '(no EK certificate, no credential activation). A verified quote proves the integrity and freshness of the ' +
  "quote - it was signed by the reported key, for this request's payload id - not that the key lives in a " +
  'genuine TPM: software holding such a key could produce the same quote. trustedAikKeys narrows which keys are ' +
  'accepted; it does not add that proof.';

export const NO_BASELINE_LIMITATION =
  'PCR values mean something only against a baseline you set. No baseline was given, so the verifier checked ' +
  'that the reported PCR values are the ones the quote covers, not that they describe software you trust.';

export const PARTIAL_BASELINE_LIMITATION =
  'PCR values mean something only against a baseline you set. The values were compared with your baseline; ' +
  'quoted PCRs your baseline does not name were not judged.';

export function limitationsFor(options: { hasBaseline: boolean }): string[] {
  return [EPHEMERAL_AIK_LIMITATION, options.hasBaseline ? PARTIAL_BASELINE_LIMITATION : NO_BASELINE_LIMITATION];
}
