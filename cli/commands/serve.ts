/**
 * `faultline serve`: browse a store's runs in a browser (read-only; loopback unless --host says otherwise).
 */
import type { Command } from 'commander';
import { once } from 'node:events';
import { startStoreServer } from '../../controller/serve/store-server';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('browse the runs of a store: newest first, filter by verdict, database and workload, open reports and files, download a run as .tar.gz (read-only)')
    .option('--store <dir>', 'the store to serve', 'store')
    .option('--host <addr>', 'address to listen on (loopback by default; anything else exposes the store to that network)', '127.0.0.1')
    .option('--port <n>', 'port (0 = any free port)', '8080')
    .action(async (opts: { store: string; host: string; port: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`Cannot serve the store: --port "${opts.port}" is not a port number`);
      const s = await startStoreServer({ store: opts.store, host: opts.host, port }).catch((err: unknown) => {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') throw new RangeError(`Cannot serve the store on ${opts.host}:${port}: ${code}`);
        throw err;
      });
      process.stdout.write(`faultline: serving ${opts.store} (read-only) at ${s.url}\n`);
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      await once(stop.signal, 'abort');
      await s.close();
    });
}
