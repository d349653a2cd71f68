import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Private TLS servers for the TLS tests: a CA and server certificates made with openssl, a
 * redis-server and a single-node Kafka (same jars and launch as tools/stack) that listen only on
 * loopback, on ports of their own. The shared stack is never touched.
 */
export interface CertificateAuthority {
  name: string;
  certFile: string;
  keyFile: string;
  certPem: string;
}

export interface ServerCertificate {
  certFile: string;
  /** Unencrypted PKCS#8 key. */
  keyFile: string;
  /** Key then certificate (Kafka's PEM keystore). */
  keystoreFile: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeCa(dir: string, name: string): CertificateAuthority {
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, `${name}-ca.pem`);
  const keyFile = join(dir, `${name}-ca.key`);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${name} test CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  return { name, certFile, keyFile, certPem: readFileSync(certFile, 'utf8') };
}

/** A server certificate for `hosts` (DNS names or IPs) signed by `ca`. */
export function issueCertificate(ca: CertificateAuthority, dir: string, name: string, hosts: string[]): ServerCertificate {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  const san = hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${hosts[0]}`], dir);
  writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', ext], dir);
  const keyFile = join(dir, `${name}.pk8`);
  openssl(['pkcs8', '-topk8', '-nocrypt', '-in', key, '-out', keyFile], dir);
  const keystoreFile = join(dir, `${name}.keystore.pem`);
  writeFileSync(keystoreFile, readFileSync(keyFile, 'utf8') + readFileSync(certFile, 'utf8'));
  return { certFile, keyFile, keystoreFile };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export interface PrivateServer {
  port: number;
  process: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

async function waitPort(child: ChildProcess, port: number, what: string, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}); see ${logFile}:\n${readTail(logFile)}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms; see ${logFile}:\n${readTail(logFile)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}

function spawnLogged(cmd: string, args: string[], logFile: string, cwd: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  return spawn(cmd, args, { cwd, stdio: ['ignore', fd, fd] });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

/** redis-server with TLS only (`--port 0`), on loopback, no persistence. */
export async function startTlsRedis(dir: string, cert: ServerCertificate, ca: CertificateAuthority, password?: string): Promise<PrivateServer> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const logFile = join(dir, 'redis.log');
  const args = ['--bind', '127.0.0.1', '--port', '0', '--tls-port', String(port), '--tls-cert-file', cert.certFile, '--tls-key-file', cert.keyFile,
    '--tls-ca-cert-file', ca.certFile, '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no', '--dir', dir,
    ...(password ? ['--requirepass', password] : [])];
  const child = spawnLogged('redis-server', args, logFile, dir);
  await waitPort(child, port, 'redis-server', logFile, 20_000);
  return { port, process: child, logFile, stop: stopper(child) };
}

/** The Kafka jars tools/stack resolved (~/.cache/canopy/kafka-<version>/libs). */
export function kafkaLibs(): string {
  const cache = process.env.CANOPY_CACHE ?? join(homedir(), '.cache', 'canopy');
  const version = existsSync(join(cache, 'kafka-version')) ? readFileSync(join(cache, 'kafka-version'), 'utf8').trim() : undefined;
  const candidates = version ? [`kafka-${version}`] : readdirSync(cache).filter((d) => d.startsWith('kafka-'));
  for (const c of candidates) if (existsSync(join(cache, c, '.complete'))) return join(cache, c, 'libs');
  throw new Error(`no Kafka jars under ${cache}: bring the stack up once (scripts/stack up)`);
}

/**
 * A single-node KRaft Kafka whose only client listener is SSL (the broker's own traffic uses a
 * loopback PLAINTEXT listener, never advertised to clients it is not asked for).
 */
export async function startTlsKafka(dir: string, cert: ServerCertificate, ca: CertificateAuthority): Promise<PrivateServer> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const [port, internal, controller] = [await freePort(), await freePort(), await freePort()];
  const props = join(dir, 'server.properties');
  writeFileSync(
    props,
    `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controller}
listeners=SSL://127.0.0.1:${port},INTERNAL://127.0.0.1:${internal},CONTROLLER://127.0.0.1:${controller}
advertised.listeners=SSL://127.0.0.1:${port},INTERNAL://127.0.0.1:${internal}
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,SSL:SSL
ssl.keystore.type=PEM
ssl.keystore.location=${cert.keystoreFile}
ssl.truststore.type=PEM
ssl.truststore.location=${ca.certFile}
ssl.client.auth=none
log.dirs=${join(dir, 'data')}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=1
num.io.threads=1
`,
  );
  const log4j = join(dir, 'log4j2.properties');
  writeFileSync(
    log4j,
    `status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${join(dir, 'server.log')}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
`,
  );
  const libs = kafkaLibs();
  const java = ['-Xms64m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4j}`, `-Dkafka.logs.dir=${dir}`, '-cp', `${libs}/*`];
  const clusterId = Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256))).toString('base64url').replace(/^-/, 'A');
  const logFile = join(dir, 'kafka.log');
  execFileSync('java', [...java, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props], { stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')], timeout: 120_000 });
  const child = spawnLogged('java', [...java, 'kafka.Kafka', props], logFile, dir);
  await waitPort(child, port, 'kafka', logFile, 120_000);
  return { port, process: child, logFile, stop: stopper(child) };
}
