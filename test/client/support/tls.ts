// A throwaway certificate authority and server certificates, made with the
// openssl CLI in a temporary directory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, openssl } from './keys';

export interface TestCertificates {
  caPem: string;
  /** A certificate for 127.0.0.1 and localhost, signed by the CA. */
  serverKeyPem: string;
  serverCertPem: string;
  /** A certificate for another name only (no 127.0.0.1), signed by the same CA. */
  otherNameKeyPem: string;
  otherNameCertPem: string;
}

function issue(dir: string, name: string, subjectAltName: string): { key: string; cert: string } {
  const keyFile = path.join(dir, `${name}.key`);
  const csrFile = path.join(dir, `${name}.csr`);
  const certFile = path.join(dir, `${name}.crt`);
  const extFile = path.join(dir, `${name}.ext`);
  fs.writeFileSync(
    extFile,
    `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${subjectAltName}\n`,
  );
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile]);
  openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-out', csrFile]);
  openssl([
    'x509', '-req', '-in', csrFile, '-CA', path.join(dir, 'ca.crt'), '-CAkey', path.join(dir, 'ca.key'),
    '-CAcreateserial', '-days', '2', '-sha256', '-extfile', extFile, '-out', certFile,
  ]);
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') };
}

export function makeTestCertificates(): TestCertificates {
  const dir = makeTempDir('nomyo-client-tls-');
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.crt');
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', caKey]);
  openssl([
    'req', '-x509', '-new', '-key', caKey, '-subj', '/CN=nomyo client tests CA', '-days', '2', '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', caCert,
  ]);
  const server = issue(dir, 'server', 'IP:127.0.0.1,DNS:localhost');
  const other = issue(dir, 'other', 'DNS:elsewhere.invalid');
  return {
    caPem: fs.readFileSync(caCert, 'utf8'),
    serverKeyPem: server.key,
    serverCertPem: server.cert,
    otherNameKeyPem: other.key,
    otherNameCertPem: other.cert,
  };
}
