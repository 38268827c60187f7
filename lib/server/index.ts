// The reference server's public surface.
export { startReferenceServer, DEFAULT_REFERENCE_PORT, DEFAULT_MAX_BODY_BYTES, DEFAULT_UPSTREAM_TIMEOUT_MS } from './reference-server';
export type { ReferenceServer, ReferenceServerOptions, CompletionBackendName } from './reference-server';
export type { TpmAikAlgorithm, TpmAttestationBlock } from './tpm-quoter';
