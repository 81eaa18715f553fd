// The single-box default: with no broker URL configured, an in-process aedes broker (MQTT 3.1.1).
// Clustering and shared subscriptions need a real broker (Mosquitto, EMQX).
//
// Who gets in: on loopback with no password file, any local client (the demo's agent and simulator),
// but the collector's client id is the collector's alone. With a password file (required beyond
// loopback, with TLS), the accounts `vigie enroll` issued and the rules of deploy/acl.ts, as Mosquitto
// applies them: a school writes under its own UAI only and reads nothing; its client id becomes its
// username (Mosquitto's use_username_as_clientid), so no one knocks another connection off.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { confinableUsername, mayPublish, maySubscribe } from '../deploy/acl.ts';
import { COLLECTOR_USER } from '../deploy/enrollment.ts';
import { ConfigError } from '../shared/config.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { BrokerAccounts } from './broker-accounts.ts';
import type { EmbeddedBrokerConfig } from './config.ts';
import { shouldLog } from './dead-letters.ts';
import { embeddedBrokerProblems } from './embedded-broker-config.ts';

/** The collector's own client id (service.ts's default too): only its in-process login may use it. */
const COLLECTOR_CLIENT_ID = 'vigie-collector';

export interface EmbeddedBroker {
  /** What the collector dials: plain MQTT on loopback (a second, loopback-only listener when the public one is TLS). */
  url: string;
  /** The public listener's port (the one asked for, or the one the system chose for 0). */
  port: number;
  /** The collector's login, drawn at each start and never written anywhere: its client id is reserved to it. */
  login: { clientId: string; username: string; password: string };
  /** Refusals by reason (connect_*, publish_denied, subscribe_denied) and the password file's state. */
  stats(): EmbeddedBrokerStats;
  close(): Promise<void>;
}

export interface EmbeddedBrokerStats {
  refused: Record<string, number>;
  accounts: number | null;
  passwordFileProblems: number;
  passwordFileFailedReads: number;
}

function readPem(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError('collector config', [
      { path: key, expected: 'a readable PEM file', found: `${path} (${(err as Error).message})` },
    ]);
  }
}

type Role = { kind: 'collector' } | { kind: 'account'; username: string } | { kind: 'local' };

const refusal = (returnCode: 4 | 5, message: string): AuthenticateError =>
  Object.assign(new Error(message), { returnCode }) as AuthenticateError;

// Long: the aedes hooks (authenticate, authorize) close over one login, the accounts and the refusal
// counters; split, they would pass all of it around.
/**
 * Starts the broker on `config.host:port` (port 0: a free one).
 * @throws ConfigError when the host is beyond loopback without passwordFile and tls, or a file is unreadable.
 */
export async function startEmbeddedBroker(
  config: EmbeddedBrokerConfig,
  log: Logger = createLogger('collector', 'silent'),
): Promise<EmbeddedBroker> {
  const problems = embeddedBrokerProblems(config);
  if (problems.length) throw new ConfigError('collector config', problems);
  const accounts = config.passwordFile ? BrokerAccounts.open(config.passwordFile, log) : null;
  const tls = config.tls && {
    cert: readPem(config.tls.cert, 'collector.broker.tls.cert'),
    key: readPem(config.tls.key, 'collector.broker.tls.key'),
  };
  const login = {
    clientId: COLLECTOR_CLIENT_ID,
    username: COLLECTOR_USER,
    password: randomBytes(32).toString('base64url'),
  };
  const roles = new WeakMap<Client, Role>();
  const refused: Record<string, number> = {};
  const lastLogged = new Map<string, number>();

  function refuse(reason: string, client: Client | null, detail: Record<string, unknown>, message: string) {
    refused[reason] = (refused[reason] ?? 0) + 1;
    const now = Date.now();
    // A box refused in a loop, or a scan, must not flood the log: one line per reason a minute, with the count.
    if (!shouldLog(lastLogged.get(reason), now)) return;
    lastLogged.set(reason, now);
    log.warn(
      {
        reason,
        times: refused[reason],
        clientId: client?.id,
        remote: (client?.conn as Socket | undefined)?.remoteAddress,
        ...detail,
      },
      `embedded broker refused: ${message}`,
    );
  }

  const isCollectorLogin = (username: string | undefined, password: Buffer | undefined) => {
    const given = Buffer.from(password ?? '');
    const expected = Buffer.from(login.password);
    return (
      username === login.username && given.length === expected.length && timingSafeEqual(given, expected)
    );
  };

  async function authenticate(client: Client, username?: string, password?: Buffer): Promise<Role> {
    if (client.id === login.clientId || username === login.username) {
      if (isCollectorLogin(username, password)) return { kind: 'collector' };
      refuse('connect_collector_id', client, { username }, "the collector's client id and name are its own");
      throw refusal(5, 'not authorized');
    }
    if (!accounts) return { kind: 'local' };
    if (username === undefined || username === '') {
      refuse('connect_anonymous', client, {}, 'a client without a username (every client logs in here)');
      throw refusal(5, 'not authorized');
    }
    if (
      !confinableUsername(username) ||
      !(await accounts.verify(username, password?.toString('utf8') ?? ''))
    ) {
      refuse('connect_bad_login', client, { username }, 'unknown username or wrong password');
      throw refusal(4, 'bad username or password');
    }
    // aedes keeps the CONNECT's will there until the session is set up; Mosquitto checks it on publishing.
    const will = (client as Client & { _will?: { topic: string } })._will;
    if (will && !mayPublish(username, will.topic)) {
      refuse('connect_will', client, { username, topic: will.topic }, 'a will outside its own topics');
      throw refusal(5, 'not authorized');
    }
    return { kind: 'account', username };
  }

  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      authenticate(client, username, password).then(
        (role) => {
          roles.set(client, role);
          // As Mosquitto's use_username_as_clientid: one connection per account, and none can take another's id.
          if (role.kind === 'account') client.id = role.username;
          done(null, true);
        },
        (err: AuthenticateError) => done(err, false),
      );
    },
    authorizePublish: (client, packet, done) => {
      const role = client ? roles.get(client) : undefined;
      const allowed =
        role?.kind === 'local'
          ? !packet.topic.startsWith('$SYS/') // aedes' own default: $SYS is the broker's
          : role?.kind === 'account' && mayPublish(role.username, packet.topic);
      // A will left by a client of an earlier broker (client null) was checked when it connected.
      if (allowed || !client) return done(null);
      refuse('publish_denied', client, { topic: packet.topic }, 'a publish outside its own topics');
      done(new Error(`not authorized to publish on ${packet.topic}`));
    },
    authorizeSubscribe: (client, sub, done) => {
      const role = roles.get(client);
      const allowed =
        role?.kind === 'local' ||
        (role?.kind === 'collector' && maySubscribe(COLLECTOR_USER, sub.topic)) ||
        (role?.kind === 'account' && maySubscribe(role.username, sub.topic));
      if (allowed) return done(null, sub);
      refuse('subscribe_denied', client, { topic: sub.topic }, 'a subscription it may not read');
      done(null, null); // SUBACK 0x80 for this filter, the connection stays
    },
  });
  // aedes emits 'error' (a will it could not publish) outside its typed events; unheard, it would throw.
  (broker as NodeJS.EventEmitter).on('error', (err: Error) =>
    log.error({ err: err.message }, 'embedded broker error'),
  );

  const listen = (server: Server, port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const addr = server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  const servers: Server[] = [];
  const open = async (server: Server, port: number, host: string) => {
    const bound = await listen(server, port, host);
    servers.push(server);
    return bound;
  };
  // The broker first: it ends every client connection, which a server's close waits for.
  const closeAll = async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };

  try {
    const publicServer: Server = tls ? createTlsServer(tls, broker.handle) : createServer(broker.handle);
    const port = await open(publicServer, config.port, config.host);
    // The collector dials plain MQTT on loopback: the public listener itself unless that one is TLS
    // (without TLS it is on loopback, embeddedBrokerProblems saw to it).
    const internalPort = tls ? await open(createServer(broker.handle), 0, '127.0.0.1') : port;
    const internalHost = tls ? '127.0.0.1' : config.host;
    log.info(
      {
        listen: `${config.host}:${port}`,
        tls: Boolean(tls),
        accounts: accounts ? `${accounts.size} from ${accounts.file}` : 'none: local clients only',
      },
      'embedded MQTT broker listening',
    );
    return {
      url: `mqtt://${internalHost.includes(':') ? `[${internalHost}]` : internalHost}:${internalPort}`,
      port,
      login,
      stats: () => ({
        refused: { ...refused },
        accounts: accounts?.size ?? null,
        passwordFileProblems: accounts?.stats.fileProblems ?? 0,
        passwordFileFailedReads: accounts?.stats.failedReads ?? 0,
      }),
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
