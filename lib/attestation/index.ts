// Offline verification of the server's TPM attestation (`_metadata.tpm_attestation`).
export {
  verifyAttestation,
  ATTESTATION_CHECKS,
  QUOTE_CHECKS,
  type AttestationAikFacts,
  type AttestationCheck,
  type AttestationQuoteFacts,
  type AttestationVerification,
  type CheckOutcome,
} from './verify-attestation';
export type { VerifyAttestationOptions } from './options';
export { attestationNonce } from './nonce';
export { EPHEMERAL_AIK_LIMITATION } from './limitations';
