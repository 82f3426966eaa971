/**
 * `vmplumb ra -C radvd.conf`: a drop-in replacement for radvd(8) in the foreground. It reads
 * radvd.conf(5) with parseRadvdConf, advertises until SIGINT/SIGTERM (then sends the final
 * RAs with router lifetime 0, as radvd does) and reloads the file on SIGHUP. radvd's `-n`
 * (stay in the foreground) is accepted and implied; `-c` checks the file and exits; `-p`
 * writes a pid file; `-d N` (N > 0) logs every RA and RS on stderr. `--metrics-listen
 * [addr]:port` serves the advertiser's counters in the Prometheus text format on
 * http://addr:port/metrics, as CoreRAD does.
 *
 * radvd's other flags, so that a distribution's radvd unit can point at it: `-v` prints the
 * version; `-m/--logmethod` stderr, stderr_clean or stderr_syslog log to stderr (what it
 * always does), none logs only fatal errors; `-s` (single process) and `-f` (syslog
 * facility) have no effect. Refused with a sentence saying why: `-m syslog|logfile`, `-l`,
 * `-u` and `-t` (the advertiser keeps following interfaces, which needs its privileges and
 * the real /sys and /proc).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Command } from 'commander';

import { CliError, intOption, messageOf, note, say, untilSignal } from './common.js';

interface RaOptions {
  config: string;
  configtest?: boolean;
  nodaemon?: boolean;
  pidfile?: string;
  netns?: string;
  debug?: number;
  metricsListen?: MetricsListen;
  version?: boolean;
  logmethod?: string;
  logfile?: string;
  username?: string;
  chrootdir?: string;
}

/** radvd's log methods that write to stderr (or nowhere), which is all vmplumb ra does. */
const LOG_METHODS = ['stderr', 'stderr_clean', 'stderr_syslog', 'none'];

/** Refuses the radvd flags vmplumb ra does not implement, naming the flag and why. */
function refuseUnsupported(options: RaOptions): void {
  if (options.logmethod !== undefined && !LOG_METHODS.includes(options.logmethod)) {
    throw new CliError(
      `--logmethod ${options.logmethod} is not supported: vmplumb ra logs to stderr (methods: ${LOG_METHODS.join(', ')}); let the service manager keep the log`,
    );
  }
  if (options.logfile !== undefined) throw new CliError('--logfile is not supported: vmplumb ra logs to stderr; redirect it');
  if (options.username !== undefined) {
    throw new CliError(
      '--username is not supported: vmplumb ra keeps the privileges it needs to follow interfaces (CAP_NET_RAW, CAP_NET_ADMIN); give them to an unprivileged user with the service manager instead',
    );
  }
  if (options.chrootdir !== undefined) throw new CliError('--chrootdir is not supported: vmplumb ra needs the real /proc and /sys to follow interfaces');
}

/** Where `--metrics-listen` serves. */
export interface MetricsListen {
  /** Undefined: every address (as Node's listen() without a host). */
  host: string | undefined;
  port: number;
}

/**
 * `--metrics-listen` value: `[addr]:port`, i.e. `:9430`, `127.0.0.1:9430`, `[::1]:9430` or
 * `localhost:9430` (port 0 picks a free one, printed at start).
 */
export function parseMetricsListen(value: string): MetricsListen {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/u.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new CliError(`--metrics-listen: expected [address]:port (like :9430, 127.0.0.1:9430 or [::1]:9430), got "${value}"`);
  const host = m[1] ?? (m[2] === '' ? undefined : m[2]);
  return { host, port };
}

/** An HTTP server answering GET /metrics with `metrics()`; resolves once listening. */
async function serveMetrics(listen: MetricsListen, metrics: () => string, contentType: string): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const body = metrics();
    response.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new CliError(`--metrics-listen: cannot listen on ${listen.host ?? '*'}:${listen.port}: ${error.code ?? messageOf(error)}`)),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}

function readConfig(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)}`);
  }
}

/** Registers `ra`. */
export function registerRa(program: Command): void {
  program
    .command('ra')
    .description('send router advertisements as radvd would, from a radvd.conf, in the foreground')
    .option('-C, --config <file>', 'radvd.conf(5) to read', '/etc/radvd.conf')
    .option('-c, --configtest', 'check the configuration file and exit')
    .option('-n, --nodaemon', 'stay in the foreground (always the case; accepted for radvd compatibility)')
    .option('-p, --pidfile <file>', 'write the process id to this file')
    .option('--netns <name>', 'advertise in this namespace (a name under /run/netns or a path)')
    .option('-d, --debug <level>', 'with a level above 0, a line on stderr per RA sent and RS received', intOption(0, 5), 0)
    .option('--metrics-listen <[addr]:port>', 'serve Prometheus metrics on http://addr:port/metrics', parseMetricsListen)
    .option('-v, --version', "print the version and exit (radvd's -v)")
    .option('-m, --logmethod <method>', `radvd's log method: ${LOG_METHODS.join(', ')} (syslog and logfile are refused)`)
    .option('-s, --singleprocess', 'accepted for radvd compatibility (always one process)')
    .option('-f, --facility <num>', 'accepted for radvd compatibility (no syslog: no effect)')
    .option('-l, --logfile <file>', 'refused: vmplumb ra logs to stderr')
    .option('-u, --username <user>', 'refused: the advertiser keeps its privileges')
    .option('-t, --chrootdir <dir>', 'refused: the advertiser needs the real /proc and /sys')
    .action(async (options: RaOptions) => {
      if (options.version) {
        say(`vmplumb ra ${program.version() ?? 'unknown version'} (radvd.conf compatible)`);
        return;
      }
      refuseUnsupported(options);
      const quiet = options.logmethod === 'none';
      const log = quiet ? (): void => undefined : note;
      const text = readConfig(options.config);
      const { parseRadvdConf, RouterAdvertiser, METRICS_CONTENT_TYPE } = await import('../ra/index.js');
      const parse = (text: string): ReturnType<typeof parseRadvdConf> => {
        try {
          return parseRadvdConf(text, { onWarning: (w) => log(`${options.config} line ${w.line}: ${w.message}`) });
        } catch (error) {
          throw new CliError(`${options.config}: ${messageOf(error)}`, { cause: error });
        }
      };
      const config = parse(text);
      const names = config.interfaces.map((i) => i.name);
      if (options.configtest) {
        say(`${options.config}: syntax OK (interfaces: ${names.join(', ')})`);
        return;
      }
      const ra = new RouterAdvertiser({ ...config, ...(options.netns === undefined ? {} : { netns: options.netns }) });
      ra.on('error', (error: Error & { interface?: string }) => log(`vmplumb ra: ${error.interface ? `${error.interface}: ` : ''}${messageOf(error)}`));
      if ((options.debug ?? 0) > 0) {
        ra.on('sent', (e) => note(`sent ${e.final ? 'final ' : ''}RA on ${e.interface} to ${e.destination}${e.solicited ? ' (solicited)' : ''}`));
        ra.on('received', (e) => note(`RS on ${e.interface} from ${e.source}${e.valid ? '' : ' (invalid, dropped)'}`));
      }
      await ra.start();
      let server: Server | undefined;
      if (options.metricsListen) {
        try {
          server = await serveMetrics(options.metricsListen, () => ra.metrics(), METRICS_CONTENT_TYPE);
        } catch (error) {
          await ra.stop();
          throw error;
        }
        const { address, port } = server.address() as AddressInfo;
        say(`metrics on http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`);
      }
      if (options.pidfile) writeFileSync(options.pidfile, `${process.pid}\n`);
      say(`advertising on ${names.join(', ')} (${options.config}); SIGHUP reloads, Ctrl-C stops`);
      const onHup = (): void => {
        try {
          const next = parse(readConfig(options.config));
          void Promise.resolve(ra.update(next)).then(
            () => log(`reloaded ${options.config}`),
            (error: unknown) => note(`vmplumb ra: reload failed, keeping the old configuration: ${messageOf(error)}`),
          );
        } catch (error) {
          note(`vmplumb ra: reload failed, keeping the old configuration: ${messageOf(error)}`);
        }
      };
      process.on('SIGHUP', onHup);
      try {
        const signal = await untilSignal();
        log(`${signal}: sending final router advertisements`);
      } finally {
        process.off('SIGHUP', onHup);
        server?.closeAllConnections();
        server?.close();
        await ra.stop();
        if (options.pidfile) rmSync(options.pidfile, { force: true });
      }
    });
}
