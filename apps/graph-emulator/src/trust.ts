import { getCACertificates, setDefaultCACertificates } from 'node:tls';

/**
 * Trust a CA in the current process, for tests that start the emulator in-process (a separate
 * process uses NODE_EXTRA_CA_CERTS instead). Node's global fetch, and so MSAL and the Graph SDK,
 * then verify the emulator's certificate like any other.
 */
export function trustCaInProcess(pem: string): void {
  const current = getCACertificates('default');
  if (!current.includes(pem)) setDefaultCACertificates([...current, pem]);
}
