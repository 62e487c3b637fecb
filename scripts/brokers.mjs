#!/usr/bin/env node
/**
 * Real brokers on this machine, without Docker: Kafka (KRaft, single node), ElasticMQ (SQS), the
 * Google Pub/Sub emulator and a schema registry (Apicurio, Confluent-compatible API), each a local
 * JVM bound to 127.0.0.1 on a free port.
 *
 *   npm run brokers -- up [kafka] [sqs] [pubsub] [registry]   fetch what is missing, start, wait, write .brokers/env
 *   npm run brokers -- down                        stop what `up` started and remove its data
 *   npm run brokers -- status                      what runs where
 *   npm run brokers -- kafka-tool TopicCommand --bootstrap-server … --list   Kafka's own tools
 *
 * Jars are fetched from Maven Central with a pinned maven-dependency-plugin into .cache/brokers/
 * (git-ignored). State lives in .brokers/ (state.json, env, started.json, one log per broker), or
 * in $EVTCTL_BROKER_STATE (a second, separate set of brokers, e.g. for the harness's own tests).
 * `up`, `down` and `status` are serialized by a lock in the state directory, so test runs that
 * start at the same time do not each start (and orphan) brokers.
 * Also used as a module by the vitest global setup (test/brokers/global-setup.ts).
 */
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import {createServer, Socket} from 'node:net'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import lockfile from 'proper-lockfile'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const STATE_DIR = process.env.EVTCTL_BROKER_STATE
  ? resolve(ROOT, process.env.EVTCTL_BROKER_STATE)
  : join(ROOT, '.brokers')
const CACHE_DIR = process.env.EVTCTL_BROKER_CACHE || join(ROOT, '.cache', 'brokers')
const STATE_FILE = join(STATE_DIR, 'state.json')
/** Every process group `up` ever started here, so `down` can stop them all, whatever state.json says. */
const STARTED_FILE = join(STATE_DIR, 'started.json')
const LOCK_FILE = join(STATE_DIR, '.lock')
export const ENV_FILE = join(STATE_DIR, 'env')

/**
 * Kafka 4.4.0 (the newest 4.x on Maven Central) unless EVTCTL_KAFKA_VERSION names another: 3.9.1
 * is the other one tested (`.ci/run` runs the Kafka tests on both).
 */
export const KAFKA_VERSION = process.env.EVTCTL_KAFKA_VERSION || '4.4.0'
export const VERSIONS = {
  kafka: KAFKA_VERSION,
  elasticmq: '1.7.1',
  dependencyPlugin: '3.8.1',
  /** Kafka 3.x logs through slf4j 1 to reload4j (log4j 1). */
  slf4j: '1.7.36',
  apicurio: '2.6.13.Final',
  /** Kafka 4.x logs with Log4j2 (the version its own pom brings); the slf4j 1 binding is ours to add. */
  log4j2: '2.25.5',
}
/** Kafka 4 moved to Log4j2 and moved or removed some tools. */
export const kafkaMajor = (version = KAFKA_VERSION) => Number(version.split('.')[0])
const READY_TIMEOUT_MS = Number(process.env.EVTCTL_BROKER_TIMEOUT_MS || 60_000)
const HEAP = '-Xmx512m'
/**
 * Auth listeners for tests: SASL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER with Kafka's unsecured
 * test tokens) and TLS with client certificates. A local test credential, not a secret.
 */
const SASL_USER = 'evtctl'
const SASL_PASSWORD = 'evtctl-local-secret'
const PUBSUB_EMULATOR = '/usr/lib/google-cloud-sdk/platform/pubsub-emulator/bin/cloud-pubsub-emulator'
export const ALL = ['kafka', 'sqs', 'pubsub', 'registry']

const log = (msg) => process.stderr.write(`[brokers] ${msg}\n`)

// ---------- state ----------

function readJson(file, empty) {
  let text
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return empty
  }
  try {
    return JSON.parse(text)
  } catch {
    // Written atomically, so this is damage from outside: say so, and let the process scan find
    // what runs (never start a second set of brokers silently).
    log(`${file} is not valid JSON; ignoring it`)
    return empty
  }
}

/** Replaces `file` in one step (a reader never sees it half-written). */
function writeAtomic(file, text) {
  mkdirSync(dirname(file), {recursive: true})
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, text)
  renameSync(tmp, file)
}

function readState() {
  return readJson(STATE_FILE, {})
}

function writeState(state) {
  writeAtomic(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`)
  writeAtomic(ENV_FILE, envLines(state))
}

/** Records a process group started for `name` (before waiting for it, so a failed start is recorded too). */
function recordStarted(name, pid, dir) {
  const started = readJson(STARTED_FILE, [])
  started.push({name, pid, dir, startedAt: new Date().toISOString()})
  writeAtomic(STARTED_FILE, `${JSON.stringify(started, null, 2)}\n`)
}

/**
 * Runs `fn` holding the state directory's lock. Waits (up to ~5 min) for another `up`/`down`;
 * a lock left by a killed process is taken over after 2 min.
 */
async function withLock(fn) {
  mkdirSync(STATE_DIR, {recursive: true})
  const release = await lockfile.lock(STATE_DIR, {
    lockfilePath: LOCK_FILE,
    realpath: false,
    // Generous: a first-time Maven fetch blocks the event loop, so the lock's mtime is not refreshed.
    stale: 120_000,
    retries: {retries: 600, factor: 1, minTimeout: 500, maxTimeout: 500},
    onCompromised: (err) => log(`lock ${LOCK_FILE} was taken over: ${err.message}`),
  })
  try {
    return await fn()
  } finally {
    await release().catch(() => {})
  }
}

/** Connection settings as a plain object (also what the test setup hands to tests). */
export function envOf(state) {
  const env = {}
  if (state.kafka) {
    env.KAFKA_BROKERS = `127.0.0.1:${state.kafka.port}`
    env.KAFKA_LIBS = state.kafka.libs
    // Brokers started before versions were recorded ran 3.9.1.
    env.KAFKA_VERSION = state.kafka.version ?? '3.9.1'
    if (state.kafka.saslPort) {
      env.KAFKA_SASL_BROKERS = `127.0.0.1:${state.kafka.saslPort}`
      env.KAFKA_SASL_USERNAME = SASL_USER
      env.KAFKA_SASL_PASSWORD = SASL_PASSWORD
    }
    if (state.kafka.tlsPort) {
      // Needs a client certificate (tls/client.pem + client.key) signed by tls/ca.pem.
      env.KAFKA_TLS_BROKERS = `127.0.0.1:${state.kafka.tlsPort}`
      env.KAFKA_TLS_DIR = join(state.kafka.dir, 'tls')
    }
  }
  if (state.sqs) {
    env.SQS_ENDPOINT = `http://127.0.0.1:${state.sqs.port}`
    env.SQS_REGION = 'us-east-1'
  }
  if (state.pubsub) {
    env.PUBSUB_EMULATOR_HOST = `127.0.0.1:${state.pubsub.port}`
    env.PUBSUB_PROJECT_ID = 'evtctl-local'
  }
  if (state.registry) env.SCHEMA_REGISTRY_URL = registryUrl(state.registry.port)
  return env
}

function envLines(state) {
  return Object.entries(envOf(state))
    .map(([k, v]) => `export ${k}=${v}\n`)
    .join('')
}

function alive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function portOpen(port, timeoutMs = 1000) {
  return new Promise((res) => {
    const s = new Socket()
    s.setTimeout(timeoutMs)
    s.once('connect', () => {
      s.destroy()
      res(true)
    })
    s.once('error', () => res(false))
    s.once('timeout', () => {
      s.destroy()
      res(false)
    })
    s.connect(port, '127.0.0.1')
  })
}

/** The command line of a process ('' if it is gone). */
function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}

/** `pid` is alive and is the broker that uses `dir` (not another process that got its pid). */
function ours(pid, dir) {
  return Boolean(pid && dir && alive(pid) && cmdline(pid).includes(`${dir}/`))
}

/**
 * A broker is healthy when its process is ours and its port answers. A busy machine (a JVM in a
 * long GC, other test runs) can leave a connect unanswered for a while: try for ~15 s before
 * calling a live broker dead, as restarting it would pull it from under running tests.
 */
async function running(entry, {patient = true} = {}) {
  if (!entry || !ours(entry.pid, entry.dir)) return false
  const tries = patient ? 5 : 1
  for (let i = 0; i < tries; i++) {
    if (await portOpen(entry.port, patient ? 3000 : 1000)) return true
    if (!ours(entry.pid, entry.dir)) return false
  }
  return false
}

/**
 * Processes (pids) that are brokers of this state directory: a recorded group leader still
 * alive and ours, or any process whose command line names the broker's directory (strays from
 * runs whose state was lost). `names`: which brokers.
 */
function brokerProcesses(names) {
  const found = new Set()
  const dirs = names.map((n) => join(STATE_DIR, n))
  for (const rec of readJson(STARTED_FILE, [])) {
    if (names.includes(rec.name) && ours(rec.pid, rec.dir)) found.add(rec.pid)
  }
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue
    const cmd = cmdline(p)
    // The JVMs carry their broker's directory on the command line (config file, data dir).
    if (/^(\S*\/)?java /.test(cmd) && dirs.some((d) => cmd.includes(`${d}/`))) found.add(Number(p))
  }
  return [...found]
}

/** Stops processes and their groups: SIGTERM, then SIGKILL after `graceMs`. */
async function stopAll(pids, graceMs = 10_000) {
  for (const pid of pids) killGroup(pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  for (const pid of pids.filter(alive)) killGroup(pid, 'SIGKILL')
  const hard = Date.now() + 5_000
  while (pids.some(alive) && Date.now() < hard) await new Promise((r) => setTimeout(r, 100))
}

/** A free port: `preferred` (a dead broker's old one, so its address stays the same) if it is free. */
function freePort(preferred) {
  return new Promise((res, rej) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', (err) => {
      if (preferred) freePort().then(res, rej)
      else rej(err)
    })
    srv.listen(preferred ?? 0, '127.0.0.1', () => {
      const {port} = srv.address()
      srv.close(() => res(port))
    })
  })
}

// ---------- fetching jars ----------

function mavenFetch(name, deps) {
  const dir = join(CACHE_DIR, name)
  const libs = join(dir, 'libs')
  const marker = join(dir, '.complete')
  if (existsSync(marker)) return libs
  mkdirSync(dir, {recursive: true})
  const pom = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>evtctl.brokers</groupId>
  <artifactId>${name}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${deps.map(([g, a, v]) => `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`).join('\n')}
  </dependencies>
</project>
`
  writeFileSync(join(dir, 'pom.xml'), pom)
  log(`fetching ${name} from Maven Central (once; cached in ${dir})`)
  const started = Date.now()
  const r = spawnSync(
    'mvn',
    [
      '-B',
      '-q',
      '-Dstyle.color=never',
      '-f',
      join(dir, 'pom.xml'),
      `org.apache.maven.plugins:maven-dependency-plugin:${VERSIONS.dependencyPlugin}:copy-dependencies`,
      '-DincludeScope=runtime',
      `-DoutputDirectory=${libs}`,
    ],
    {stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8'},
  )
  if (r.status !== 0) {
    throw new Error(
      `mvn could not fetch ${name} (exit ${r.status ?? r.error?.message}):\n${r.stdout ?? ''}${r.stderr ?? ''}`,
    )
  }
  writeFileSync(marker, new Date().toISOString())
  log(`fetched ${name} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return libs
}

export function kafkaLibs(version = KAFKA_VERSION) {
  return mavenFetch(`kafka-${version}`, [
    ['org.apache.kafka', 'kafka_2.13', version],
    ['org.apache.kafka', 'kafka-tools', version],
    kafkaMajor(version) >= 4
      ? ['org.apache.logging.log4j', 'log4j-slf4j-impl', VERSIONS.log4j2]
      : ['org.slf4j', 'slf4j-reload4j', VERSIONS.slf4j],
  ])
}

/**
 * A random cluster id for `StorageTool format -t ID`: 22 base64url characters, never starting
 * with "-" (the tool's argument parser would take it for an option and refuse to format, as it
 * did here once in 64 starts; Kafka's own Uuid.randomUuid() avoids it the same way).
 */
export function kafkaClusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url').slice(0, 22)
    if (!id.startsWith('-')) return id
  }
}

/**
 * Writes a logging config for a Kafka JVM of `version` to `base` + `.properties` and returns the
 * JVM flag that points at it: log4j 1 for 3.x, Log4j2 for 4.x. Without a binding Kafka prints
 * nothing, and the readiness line is lost. `levels`: logger name → level, beside the root's.
 * `stderr`: log to stderr (tools, whose stdout is data).
 */
export function kafkaLogging(
  base,
  {version = KAFKA_VERSION, root = 'INFO', levels = {}, stderr = false} = {},
) {
  const file = `${base}.properties`
  const pattern = stderr ? '%p %m%n' : '[%d] %p %m (%c)%n'
  if (kafkaMajor(version) >= 4) {
    const lines = [
      'status = warn',
      'appender.out.type = Console',
      'appender.out.name = OUT',
      `appender.out.target = ${stderr ? 'SYSTEM_ERR' : 'SYSTEM_OUT'}`,
      'appender.out.layout.type = PatternLayout',
      `appender.out.layout.pattern = ${pattern}`,
      `rootLogger.level = ${root}`,
      'rootLogger.appenderRef.out.ref = OUT',
    ]
    Object.entries(levels).forEach(([name, level], i) => {
      lines.push(`logger.l${i}.name = ${name}`, `logger.l${i}.level = ${level}`)
    })
    writeAtomic(file, `${lines.join('\n')}\n`)
    return `-Dlog4j2.configurationFile=${file}`
  }
  const lines = [
    `log4j.rootLogger=${root}, out`,
    'log4j.appender.out=org.apache.log4j.ConsoleAppender',
    ...(stderr ? ['log4j.appender.out.Target=System.err'] : []),
    'log4j.appender.out.layout=org.apache.log4j.PatternLayout',
    `log4j.appender.out.layout.ConversionPattern=${pattern}`,
    ...Object.entries(levels).map(([name, level]) => `log4j.logger.${name}=${level}`),
  ]
  writeAtomic(file, `${lines.join('\n')}\n`)
  return `-Dlog4j.configuration=file:${file}`
}

function elasticmqLibs() {
  return mavenFetch(`elasticmq-${VERSIONS.elasticmq}`, [
    ['org.elasticmq', 'elasticmq-server_2.13', VERSIONS.elasticmq],
  ])
}

// ---------- starting ----------

function spawnLogged(name, cmd, args, {cwd, logFile, env}) {
  const fd = openLog(logFile)
  // detached: the broker gets its own process group, so `down` can stop it and its children.
  const child = spawn(cmd, args, {
    cwd,
    env: {...process.env, ...env},
    detached: true,
    stdio: ['ignore', fd, fd],
  })
  child.unref()
  recordStarted(name, child.pid, cwd)
  return child.pid
}

function openLog(file) {
  mkdirSync(dirname(file), {recursive: true})
  writeFileSync(file, '')
  return openSync(file, 'a')
}

async function waitReady(name, pid, logFile, pattern, port) {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    const text = existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''
    if (pattern.test(text) && (await portOpen(port))) return
    if (!alive(pid)) throw new BrokerStartError(name, `exited during start-up`, logFile)
    await new Promise((r) => setTimeout(r, 250))
  }
  await stopAll([pid])
  throw new BrokerStartError(name, `not ready within ${READY_TIMEOUT_MS / 1000} s`, logFile)
}

export class BrokerStartError extends Error {
  constructor(name, why, logFile) {
    const tail = existsSync(logFile)
      ? readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n')
      : '(no log)'
    super(`${name} ${why}. Last lines of ${logFile}:\n${tail}`)
    this.name = 'BrokerStartError'
  }
}

async function startKafka(prev = {}) {
  const libs = kafkaLibs()
  const [port, cport, saslPort, tlsPort] = [
    await freePort(prev.port),
    await freePort(prev.controllerPort),
    await freePort(prev.saslPort),
    await freePort(prev.tlsPort),
  ]
  const dir = join(STATE_DIR, 'kafka')
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(join(dir, 'data'), {recursive: true})
  const tls = makeTlsFiles(join(dir, 'tls'))
  const props = `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${cport}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${cport},SASL_PLAINTEXT://127.0.0.1:${saslPort},SSL://127.0.0.1:${tlsPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:${saslPort},SSL://127.0.0.1:${tlsPort}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${SASL_USER}="${SASL_PASSWORD}";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";
listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.location=${tls.keystore}
listener.name.ssl.ssl.truststore.type=PEM
listener.name.ssl.ssl.truststore.location=${tls.ca}
listener.name.ssl.ssl.client.auth=required
log.dirs=${join(dir, 'data')}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
group.initial.rebalance.delay.ms=0
log.retention.ms=-1
`
  // log.retention.ms=-1: tests publish messages stamped 2026-01-01; under the default 7-day
  // retention the broker may delete their segment between publish and tail.
  // auto.create.topics.enable stays at Kafka's default (true), as on many real clusters, so tests
  // prove that evtctl itself never creates a topic.
  writeFileSync(join(dir, 'server.properties'), props)
  const log4j = kafkaLogging(join(dir, 'log4j'), {
    levels: {
      kafka: 'INFO',
      'org.apache.kafka': 'WARN',
      'kafka.server.KafkaServer': 'INFO',
      'kafka.server.KafkaRaftServer': 'INFO',
    },
  })
  const clusterId = kafkaClusterId()
  execFileSync(
    'java',
    [
      log4j,
      '-cp',
      `${libs}/*`,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId,
      '-c',
      join(dir, 'server.properties'),
      '--ignore-formatted',
      // SCRAM users live in the cluster metadata; KRaft takes them at format time.
      '--add-scram',
      `SCRAM-SHA-256=[name=${SASL_USER},password=${SASL_PASSWORD}]`,
      '--add-scram',
      `SCRAM-SHA-512=[name=${SASL_USER},password=${SASL_PASSWORD}]`,
    ],
    {stdio: ['ignore', 'ignore', 'inherit']},
  )
  const logFile = join(dir, 'kafka.log')
  const pid = spawnLogged(
    'kafka',
    'java',
    [HEAP, '-XX:+UseSerialGC', log4j, '-cp', `${libs}/*`, 'kafka.Kafka', join(dir, 'server.properties')],
    {
      cwd: dir,
      logFile,
    },
  )
  await waitReady('kafka', pid, logFile, /Kafka Server started|KafkaRaftServer.*started/, port)
  return {pid, port, controllerPort: cport, saslPort, tlsPort, dir, libs, logFile, version: KAFKA_VERSION}
}

/**
 * A test CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl:
 * tls/ca.pem, tls/server.pem (key + chain, the broker's PEM keystore), tls/client.pem + client.key.
 */
function makeTlsFiles(dir) {
  mkdirSync(dir, {recursive: true})
  const f = (name) => join(dir, name)
  const ssl = (...args) => execFileSync('openssl', args, {stdio: ['ignore', 'ignore', 'pipe']})
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=evtctl test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  )
  for (const [who, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ]) {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=evtctl-${who}`,
      '-keyout',
      f(`${who}.key`),
      '-out',
      f(`${who}.csr`),
    )
    writeFileSync(f(`${who}.ext`), `${ext}\n`)
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${who}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      f(`${who}.ext`),
      '-out',
      f(`${who}.pem`),
    )
  }
  // The broker's PEM keystore: an unencrypted PKCS#8 key, then the certificate.
  ssl('pkcs8', '-topk8', '-nocrypt', '-in', f('server.key'), '-out', f('server.pk8'))
  writeFileSync(
    f('server-keystore.pem'),
    readFileSync(f('server.pk8'), 'utf8') + readFileSync(f('server.pem'), 'utf8'),
  )
  return {keystore: f('server-keystore.pem'), ca: f('ca.pem')}
}

async function startSqs(prev = {}) {
  const libs = elasticmqLibs()
  const port = await freePort(prev.port)
  const dir = join(STATE_DIR, 'sqs')
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(dir, {recursive: true})
  writeFileSync(
    join(dir, 'elasticmq.conf'),
    `include classpath("application.conf")
node-address { protocol = http, host = "127.0.0.1", port = ${port}, context-path = "" }
rest-sqs { enabled = true, bind-port = ${port}, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
generate-node-address = false
aws { region = us-east-1, accountId = 000000000000 }
`,
  )
  const logFile = join(dir, 'elasticmq.log')
  const pid = spawnLogged(
    'sqs',
    'java',
    [
      HEAP,
      '-XX:+UseSerialGC',
      `-Dconfig.file=${join(dir, 'elasticmq.conf')}`,
      '-cp',
      `${libs}/*`,
      'org.elasticmq.server.Main',
    ],
    {cwd: dir, logFile},
  )
  await waitReady('sqs', pid, logFile, /ElasticMQ server \(.*\) started/, port)
  return {pid, port, dir, libs, logFile}
}

async function startPubsub(prev = {}) {
  if (!existsSync(PUBSUB_EMULATOR)) {
    throw new Error(
      `The Pub/Sub emulator is not installed (${PUBSUB_EMULATOR}). Install the Debian package google-cloud-cli-pubsub-emulator.`,
    )
  }
  const port = await freePort(prev.port)
  const dir = join(STATE_DIR, 'pubsub')
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(join(dir, 'data'), {recursive: true})
  const logFile = join(dir, 'pubsub.log')
  const pid = spawnLogged(
    'pubsub',
    PUBSUB_EMULATOR,
    ['--host=127.0.0.1', `--port=${port}`, `--data-dir=${join(dir, 'data')}`],
    {
      cwd: dir,
      logFile,
      env: {JAVA_OPTS: `${HEAP} -XX:+UseSerialGC`},
    },
  )
  await waitReady('pubsub', pid, logFile, /Server started, listening on/, port)
  return {pid, port, dir, logFile}
}

// ---------- schema registry (Apicurio, Confluent-compatible API) ----------

/**
 * Apicurio Registry speaks Confluent's Schema Registry API at /apis/ccompat/v7 and runs without
 * Docker: one Quarkus jar plus lib/, fetched from Maven Central as a tar.gz and unpacked once.
 * In-memory storage (a restart forgets every schema). Its global compatibility default is NONE,
 * unlike Confluent's BACKWARD. 3.x needs Java 21, so 2.6.
 */
export function registryUrl(port) {
  return `http://127.0.0.1:${port}/apis/ccompat/v7`
}

function apicurioApp() {
  const dir = join(CACHE_DIR, `apicurio-${VERSIONS.apicurio}`)
  const app = join(dir, 'app')
  const jar = join(app, `apicurio-registry-app-${VERSIONS.apicurio}-runner.jar`)
  const marker = join(dir, '.complete')
  if (existsSync(marker)) return jar
  rmSync(app, {recursive: true, force: true})
  mkdirSync(dir, {recursive: true})
  log(`fetching Apicurio Registry ${VERSIONS.apicurio} from Maven Central (once; cached in ${dir})`)
  const started = Date.now()
  const r = spawnSync(
    'mvn',
    [
      '-B',
      '-q',
      '-Dstyle.color=never',
      `org.apache.maven.plugins:maven-dependency-plugin:${VERSIONS.dependencyPlugin}:unpack`,
      `-Dartifact=io.apicurio:apicurio-registry-app:${VERSIONS.apicurio}:tar.gz:all`,
      `-DoutputDirectory=${app}`,
    ],
    {cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8'},
  )
  if (r.status !== 0 || !existsSync(jar)) {
    throw new Error(
      `mvn could not fetch Apicurio Registry (exit ${r.status ?? r.error?.message}):\n${r.stdout ?? ''}${r.stderr ?? ''}`,
    )
  }
  writeFileSync(marker, new Date().toISOString())
  log(`fetched Apicurio Registry in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return jar
}

async function startRegistry(prev = {}) {
  const jar = apicurioApp()
  const port = await freePort(prev.port)
  const dir = join(STATE_DIR, 'registry')
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(join(dir, 'tmp'), {recursive: true})
  const logFile = join(dir, 'registry.log')
  const pid = spawnLogged(
    'registry',
    'java',
    [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      // Names this broker's directory on the command line, so `down` finds a stray JVM.
      `-Djava.io.tmpdir=${join(dir, 'tmp')}`,
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${port}`,
      '-jar',
      jar,
    ],
    {cwd: dir, logFile},
  )
  await waitReady('registry', pid, logFile, /started in .*Listening on/, port)
  return {pid, port, dir, logFile}
}

const STARTERS = {kafka: startKafka, sqs: startSqs, pubsub: startPubsub, registry: startRegistry}

/** The Kafka C client, used by tests and benchmarks as a peer. Installed from Debian when missing. */
export function ensureKcat() {
  if (spawnSync('sh', ['-c', 'command -v kcat'], {stdio: 'ignore'}).status === 0) return true
  if (process.getuid?.() !== 0) {
    log('kcat is missing and this is not root: install it with "apt-get install -y kcat"')
    return false
  }
  log('installing kcat from Debian (apt-get install -y kcat)')
  let r = spawnSync('apt-get', ['install', '-y', '-q', 'kcat'], {stdio: ['ignore', 'ignore', 'inherit']})
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], {stdio: ['ignore', 'ignore', 'inherit']})
    r = spawnSync('apt-get', ['install', '-y', '-q', 'kcat'], {stdio: ['ignore', 'ignore', 'inherit']})
  }
  return r.status === 0
}

/**
 * Starts the named brokers that do not run, keeps those that do (same ports), writes .brokers/env,
 * and returns {env, started: names started now, restarted: those of them that had died (their
 * set was started earlier, so others may be using it), failed: {name: message}}. A dead broker is
 * restarted on its old ports when they are free, after whatever is left of it (a hung JVM, strays
 * from lost state) is stopped: one broker per directory, never an orphan.
 */
export async function up(names = ALL) {
  return withLock(async () => {
    const state = readState()
    const started = []
    const restarted = []
    const failed = {}
    const healthy = new Set()
    for (const name of names) if (await running(state[name])) healthy.add(name)
    // A Kafka of another version runs here: never test one version while saying another. It is
    // not stopped (others may be using it); a second state directory runs the other version.
    const kafkaThere = state.kafka?.version ?? '3.9.1'
    if (healthy.has('kafka') && kafkaThere !== KAFKA_VERSION) {
      healthy.delete('kafka')
      failed.kafka = `Kafka ${kafkaThere} runs in ${STATE_DIR}, not ${KAFKA_VERSION} (EVTCTL_KAFKA_VERSION). Stop it with "npm run brokers -- down kafka", or give this run its own state directory: EVTCTL_BROKER_STATE=.brokers-${KAFKA_VERSION}.`
    }
    // Fetch jars one at a time (Maven's local repository does not like parallel writers), then start in parallel.
    for (const name of names) {
      if (healthy.has(name) || failed[name]) continue
      try {
        if (name === 'kafka') kafkaLibs()
        if (name === 'sqs') elasticmqLibs()
        if (name === 'registry') apicurioApp()
      } catch (err) {
        failed[name] = err.message
      }
    }
    await Promise.all(
      names.map(async (name) => {
        if (failed[name]) return
        if (healthy.has(name)) {
          log(`${name} already running on 127.0.0.1:${state[name].port} (pid ${state[name].pid})`)
          return
        }
        const leftovers = brokerProcesses([name])
        if (leftovers.length) {
          log(`${name}: stopping what is left of an earlier start (pid ${leftovers.join(', ')})`)
          await stopAll(leftovers, 5_000)
        }
        const died = Boolean(state[name])
        if (died) log(`${name} is not running (was pid ${state[name].pid}); restarting it`)
        const t0 = Date.now()
        try {
          state[name] = {...(await STARTERS[name](state[name])), startedAt: new Date().toISOString()}
          started.push(name)
          if (died) restarted.push(name)
          log(
            `${name} ready on 127.0.0.1:${state[name].port} in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${state[name].pid})`,
          )
        } catch (err) {
          delete state[name]
          failed[name] = err.message
        }
      }),
    )
    if (names.includes('kafka')) ensureKcat()
    writeState(state)
    return {env: envOf(state), started, restarted, failed}
  })
}

function killGroup(pid, signal = 'SIGTERM') {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}

/**
 * Stops the named brokers (SIGTERM, then SIGKILL after 10 s) and removes their data: every process
 * group `up` ever started for them, and any JVM still running from their directories.
 */
export async function down(names = ALL) {
  if (names.length === 0) return
  await withLock(async () => {
    const state = readState()
    const pids = brokerProcesses(names)
    await stopAll(pids)
    for (const pid of pids) if (alive(pid)) log(`pid ${pid} did not stop`)
    for (const name of names) {
      const entry = state[name]
      if (entry || pids.length) log(`${name} stopped${entry ? ` (pid ${entry.pid})` : ''}`)
      rmSync(join(STATE_DIR, name), {recursive: true, force: true})
      delete state[name]
    }
    writeState(state)
    const rest = readJson(STARTED_FILE, []).filter((r) => !names.includes(r.name) && alive(r.pid))
    writeAtomic(STARTED_FILE, `${JSON.stringify(rest, null, 2)}\n`)
    if (Object.keys(state).length === 0) {
      for (const f of [STATE_FILE, ENV_FILE, STARTED_FILE]) rmSync(f, {force: true})
    }
  })
  try {
    rmdirSync(STATE_DIR) // only if empty (the lock is released by now)
  } catch {
    // not empty, or gone
  }
}

export async function status() {
  const state = readState()
  const rows = []
  for (const name of ALL) {
    const e = state[name]
    rows.push({
      name,
      running: await running(e, {patient: false}),
      port: e?.port,
      pid: e?.pid,
      ...(name === 'kafka' && e ? {version: e.version ?? '3.9.1'} : {}),
      rssMb: e ? rssMb(e.pid) : undefined,
    })
  }
  return rows
}

function rssMb(pid) {
  // The JVM is the process itself (kafka, sqs) or a child of the start script (pubsub): sum the group.
  try {
    let kb = 0
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue
      try {
        const st = readFileSync(`/proc/${p}/stat`, 'utf8')
        const fields = st.slice(st.lastIndexOf(')') + 2).split(' ')
        if (Number(fields[2]) !== pid) continue // pgrp
        const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))
        if (m) kb += Number(m[1])
      } catch {
        // process ended while reading
      }
    }
    return Math.round(kb / 1024)
  } catch {
    return undefined
  }
}

// ---------- Kafka's own tools (peers for cross-checks and benchmarks) ----------

export const KAFKA_TOOLS = {
  TopicCommand: 'org.apache.kafka.tools.TopicCommand',
  ConsoleConsumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  // Moved out of the Scala core in Kafka 4.
  ConsoleProducer:
    kafkaMajor() >= 4 ? 'org.apache.kafka.tools.ConsoleProducer' : 'kafka.tools.ConsoleProducer',
  ConsumerGroupCommand: 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  ProducerPerformance: 'org.apache.kafka.tools.ProducerPerformance',
  ConsumerPerformance: 'org.apache.kafka.tools.ConsumerPerformance',
}

/** java argv that runs one of Kafka's tools from the cached jars (quiet logging). */
export function kafkaToolArgs(tool, args) {
  const cls = KAFKA_TOOLS[tool] ?? tool
  const libs = kafkaLibs()
  const log4j = kafkaLogging(join(CACHE_DIR, `tools-log-${KAFKA_VERSION}`), {root: 'WARN', stderr: true})
  return ['-Xmx512m', log4j, '-cp', `${libs}/*`, cls, ...args]
}

// ---------- CLI ----------

async function main() {
  const [cmd = 'status', ...rest] = process.argv.slice(2)
  if (cmd === 'kafka-tool') {
    const [tool, ...args] = rest
    if (!tool) {
      log(`usage: npm run brokers -- kafka-tool ${Object.keys(KAFKA_TOOLS).join('|')} [args…]`)
      process.exit(2)
    }
    const r = spawnSync('java', kafkaToolArgs(tool, args), {stdio: 'inherit'})
    process.exit(r.status ?? 1)
  }
  const names = rest.length ? rest : ALL
  const unknown = names.filter((n) => !ALL.includes(n))
  if (unknown.length) {
    log(`unknown broker(s): ${unknown.join(', ')}; choose from ${ALL.join(', ')}`)
    process.exit(2)
  }
  if (cmd === 'up') {
    const {env, failed} = await up(names)
    for (const [name, msg] of Object.entries(failed)) log(`${name} FAILED: ${msg}`)
    process.stdout.write(`# Connection settings (also in ${ENV_FILE}; load them with: . .brokers/env)\n`)
    for (const [k, v] of Object.entries(env)) process.stdout.write(`export ${k}=${v}\n`)
    process.stdout.write('# Point evtctl at them:\n')
    if (env.KAFKA_BROKERS)
      process.stdout.write(
        `evtctl config set-context local-kafka --broker kafka --brokers ${env.KAFKA_BROKERS}\n`,
      )
    if (env.SQS_ENDPOINT)
      process.stdout.write(
        `evtctl config set-context local-sqs --broker sqs --region ${env.SQS_REGION} --endpoint ${env.SQS_ENDPOINT}\n`,
      )
    if (env.PUBSUB_EMULATOR_HOST)
      process.stdout.write(
        `evtctl config set-context local-pubsub --broker pubsub --project ${env.PUBSUB_PROJECT_ID} --emulator-host ${env.PUBSUB_EMULATOR_HOST}\n`,
      )
    if (env.SCHEMA_REGISTRY_URL)
      process.stdout.write(`# Schema registry: evtctl tail … --registry ${env.SCHEMA_REGISTRY_URL}\n`)
    process.exit(Object.keys(failed).length ? 1 : 0)
  } else if (cmd === 'down') {
    await down(names)
  } else if (cmd === 'status') {
    for (const r of await status()) {
      process.stdout.write(
        r.running
          ? `${r.name.padEnd(8)} running  127.0.0.1:${r.port}  pid ${r.pid}  rss ${r.rssMb} MB${r.version ? `  (Kafka ${r.version})` : ''}\n`
          : `${r.name.padEnd(8)} stopped\n`,
      )
    }
  } else {
    log(`usage: npm run brokers -- up|down|status [${ALL.join('] [')}], or kafka-tool TOOL [args…]`)
    process.exit(2)
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    log(err.stack || String(err))
    process.exit(1)
  })
}
