import { type Call, type CommandSpec, command, type Session } from './command-spec';
import { parseInteger } from './data-commands';
import { bulk, error, integer, map, NULL_BULK, OK, PONG, type Reply, simple, array } from './reply';
import { redisErrors } from './resp-errors';

/** The redis_version this server reports: one that client libraries accept for the commands it has. */
export const REDIS_COMPATIBLE_VERSION = '7.2.0';

/** Checks a password (and user, which must be `default`) against AUTH_TOKEN; marks the session authenticated. */
function authenticate(call: Call, user: Buffer | undefined, password: Buffer): Reply | undefined {
  const { server, session } = call;
  if (!server.token) {
    if (user === undefined) {
      return error('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
    }
    // Redis accepts any password for the passwordless default user.
    if (user.toString() === 'default') return undefined;
    return redisErrors.wrongPass();
  }
  const userOk = user === undefined || user.toString() === 'default';
  // The token is checked even for a wrong user, so the answer's timing does not tell which part was wrong.
  const tokenOk = server.token.check(password.toString('utf8')) === undefined;
  if (!userOk || !tokenOk) return redisErrors.wrongPass();
  session.authenticated = true;
  return undefined;
}

/** Redis refuses names with spaces, newlines or other special characters. */
function validName(name: Buffer): boolean {
  return name.every((c) => c > 32 && c < 127);
}

/** One line of CLIENT LIST / CLIENT INFO. */
function clientLine(session: Session, now: number): string {
  const age = Math.floor((now - session.connectedAt) / 1000);
  return [
    `id=${session.id}`,
    `addr=${session.remote}`,
    `name=${session.name ?? ''}`,
    `age=${age}`,
    'db=0',
    `cmd=${session.lastCommand}`,
    `resp=${session.protocol}`,
    `lib-name=${session.libName ?? ''}`,
    `lib-ver=${session.libVersion ?? ''}`,
  ].join(' ');
}

function helloReply(call: Call): Reply {
  const { server, session } = call;
  return map([
    ['server', bulk('redis')],
    ['version', bulk(REDIS_COMPATIBLE_VERSION)],
    ['proto', integer(session.protocol)],
    ['id', integer(session.id)],
    ['mode', bulk('standalone')],
    ['role', bulk('master')],
    ['modules', array([])],
    ['bitacora_version', bulk(server.version)],
  ]);
}

/** PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT, CLIENT. */
export const CONNECTION_COMMANDS: readonly CommandSpec[] = [
  command({
    name: 'ping',
    arity: -1,
    flags: ['fast', 'loading'],
    group: 'connection',
    summary: 'Returns PONG, or the message given.',
    run: ({ args }) => (args.length > 1 ? redisErrors.wrongArity('ping') : args.length === 1 ? bulk(args[0]!) : PONG),
  }),
  command({
    name: 'echo',
    arity: 2,
    flags: ['fast', 'loading'],
    group: 'connection',
    summary: 'Returns the message given.',
    run: ({ args }) => bulk(args[0]!),
  }),
  command({
    name: 'quit',
    arity: -1,
    flags: ['noauth', 'fast', 'loading'],
    group: 'connection',
    summary: 'Closes the connection once earlier replies are written.',
    run: ({ session }) => {
      session.closeAfterReply = true;
      return OK;
    },
  }),
  command({
    name: 'reset',
    arity: 1,
    flags: ['noauth', 'fast', 'loading'],
    group: 'connection',
    summary: 'Resets the connection: RESP2, no name, and unauthenticated when a token is set.',
    run: ({ session, server }) => {
      session.protocol = 2;
      session.name = undefined;
      session.authenticated = server.token === undefined;
      return simple('RESET');
    },
  }),
  command({
    name: 'auth',
    arity: -2,
    flags: ['noauth', 'fast', 'loading'],
    group: 'connection',
    summary: 'Authenticates with AUTH_TOKEN: AUTH token, or AUTH default token.',
    run: (call) => {
      const { args } = call;
      if (args.length > 2) return redisErrors.syntax();
      const refused = args.length === 2 ? authenticate(call, args[0], args[1]!) : authenticate(call, undefined, args[0]!);
      return refused ?? OK;
    },
  }),
  command({
    name: 'hello',
    arity: -1,
    flags: ['noauth', 'fast', 'loading'],
    group: 'connection',
    summary: 'Chooses RESP2 or RESP3, and may authenticate and name the connection.',
    run: (call) => {
      const { args, session } = call;
      let protocol = session.protocol;
      if (args.length > 0) {
        const version = parseInteger(args[0]!);
        if (version === undefined) return error('ERR Protocol version is not an integer or out of range');
        if (version !== 2 && version !== 3) return error('NOPROTO unsupported protocol version');
        protocol = version;
      }
      let name: Buffer | undefined;
      for (let i = 1; i < args.length; i++) {
        const option = args[i]!.toString('latin1').toLowerCase();
        if (option === 'auth' && i + 2 < args.length) {
          const refused = authenticate(call, args[i + 1], args[i + 2]!);
          if (refused) return refused;
          i += 2;
        } else if (option === 'setname' && i + 1 < args.length) {
          name = args[++i];
          if (!validName(name!)) return error('ERR Client names cannot contain spaces, newlines or special characters.');
        } else return error(`ERR Syntax error in HELLO option '${option}'`);
      }
      if (!session.authenticated) {
        return error('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
      }
      session.protocol = protocol;
      if (name !== undefined) session.name = name.toString();
      return helloReply(call);
    },
  }),
  command({
    name: 'select',
    arity: 2,
    flags: ['fast', 'loading'],
    group: 'connection',
    summary: 'Selects database 0, the only one.',
    run: ({ args }) => {
      const db = parseInteger(args[0]!);
      if (db === undefined) return error('ERR invalid DB index');
      return db === 0 ? OK : error('ERR DB index is out of range: Bitacora has one database, 0 (use another KAFKA_TOPIC for another keyspace)');
    },
  }),
  command({
    name: 'client',
    arity: -2,
    flags: ['loading'],
    group: 'connection',
    summary: 'CLIENT ID, SETNAME, GETNAME, SETINFO, INFO, LIST.',
    run: ({ args, session, server }) => {
      const sub = args[0]!.toString('latin1').toLowerCase();
      const arity = (n: number): Reply | undefined => (args.length !== n ? redisErrors.wrongArity(`client|${sub}`) : undefined);
      switch (sub) {
        case 'id':
          return arity(1) ?? integer(session.id);
        case 'getname':
          return arity(1) ?? (session.name === undefined ? NULL_BULK : bulk(session.name));
        case 'setname': {
          const wrong = arity(2);
          if (wrong) return wrong;
          if (!validName(args[1]!) && args[1]!.length > 0) return error('ERR Client names cannot contain spaces, newlines or special characters.');
          session.name = args[1]!.length === 0 ? undefined : args[1]!.toString();
          return OK;
        }
        case 'setinfo': {
          const wrong = arity(3);
          if (wrong) return wrong;
          const attribute = args[1]!.toString('latin1').toLowerCase();
          if (!validName(args[2]!)) return error(`ERR ${attribute} cannot contain spaces, newlines or special characters.`);
          if (attribute === 'lib-name') session.libName = args[2]!.toString();
          else if (attribute === 'lib-ver') session.libVersion = args[2]!.toString();
          else return error(`ERR Unrecognized option '${attribute}'`);
          return OK;
        }
        case 'info':
          return arity(1) ?? bulk(`${clientLine(session, Date.now())}\n`);
        case 'list': {
          const now = Date.now();
          return bulk([...server.sessions()].map((s) => `${clientLine(s, now)}\n`).join(''));
        }
        default:
          return redisErrors.unknownSubcommand('client', args[0]!);
      }
    },
  }),
];
