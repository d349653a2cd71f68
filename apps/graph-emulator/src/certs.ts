import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Key material, made with the openssl CLI and kept in the state directory so a restart keeps
 * trust: a CA (clients trust it via NODE_EXTRA_CA_CERTS or an explicit CA option), a server
 * certificate for 127.0.0.1/localhost signed by it, and the token signing key.
 */
export interface TlsMaterial {
  caCertPath: string;
  caCertPem: string;
  serverKeyPem: string;
  serverCertPem: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function ensureTls(stateDir: string, hosts: string[] = ['127.0.0.1', 'localhost']): TlsMaterial {
  const dir = join(stateDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca-key.pem');
  if (!existsSync(ca) || !existsSync(caKey)) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '3650', '-subj', '/CN=Canopy Graph Emulator CA/O=Canopy (not for production)', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  }
  const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  const serverCert = join(dir, 'server.pem');
  const serverKey = join(dir, 'server-key.pem');
  const sanFile = join(dir, 'server.san');
  const previousSan = existsSync(sanFile) ? readFileSync(sanFile, 'utf8') : '';
  if (!existsSync(serverCert) || !existsSync(serverKey) || previousSan !== san) {
    const ext = join(dir, 'server.ext');
    writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', serverKey, '-out', join(dir, 'server.csr'), '-subj', '/CN=127.0.0.1'], dir);
    openssl(['x509', '-req', '-in', join(dir, 'server.csr'), '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', serverCert, '-days', '825', '-sha256', '-extfile', ext], dir);
    writeFileSync(sanFile, san);
  }
  return {
    caCertPath: ca,
    caCertPem: readFileSync(ca, 'utf8'),
    serverKeyPem: readFileSync(serverKey, 'utf8'),
    serverCertPem: readFileSync(serverCert, 'utf8'),
  };
}

/** The RSA key that signs access tokens (persisted so tokens survive a restart). */
export function ensureSigningKey(stateDir: string): string {
  const path = join(stateDir, 'token-signing-key.pem');
  if (!existsSync(path)) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  return readFileSync(path, 'utf8');
}

/** A self-signed certificate and key for an app registration's certificate credential. */
export function makeClientCertificate(dir: string, name: string): { certPath: string; keyPath: string; certPem: string; keyPem: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certPath = join(dir, `${name}.cert.pem`);
  const keyPath = join(dir, `${name}.key.pem`);
  if (!existsSync(certPath) || !existsSync(keyPath)) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '730', '-subj', `/CN=${name}`], dir);
  }
  return { certPath, keyPath, certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}
