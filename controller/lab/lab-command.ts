/**
 * Runs the host tools the lab needs (`ip`, `iptables-save`, `iptables-restore`) with `execFile`, never a shell,
 * and turns their failures into errors a person can act on.
 */
import { execFile, type ExecFileException } from 'node:child_process';

/** A tool the lab needs is not installed. */
export class LabToolMissingError extends Error {
  override readonly name = 'LabToolMissingError';
  constructor(
    readonly tool: string,
    readonly debianPackage: string,
    options?: ErrorOptions,
  ) {
    super(`Cannot run "${tool}": it is not installed (apt-get install -y ${debianPackage})`, options);
  }
}

/** A lab command ran and failed. */
export class LabCommandError extends Error {
  override readonly name = 'LabCommandError';
  constructor(
    readonly command: string,
    readonly stderr: string,
    options?: ErrorOptions,
  ) {
    const detail = stderr.trim().split('\n').filter(Boolean).slice(0, 3).join('; ');
    const hint = /Operation not permitted|Permission denied/i.test(stderr) ? ' (the lab needs root)' : '';
    super(`Cannot run "${command}": ${detail || 'it failed'}${hint}`, options);
  }
}

const PACKAGE_OF: Record<string, string> = {
  ip: 'iproute2',
  'iptables-save': 'iptables',
  'iptables-restore': 'iptables',
};

/**
 * Runs `cmd args…`, writes `input` to its stdin, and resolves with stdout.
 * @throws LabToolMissingError when the binary is absent, LabCommandError when it fails or times out.
 */
export function runLabCommand(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      [...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err: ExecFileException | null, stdout: string, stderr: string) => {
        if (err === null) return resolve(stdout);
        if (err.code === 'ENOENT') return reject(new LabToolMissingError(cmd, PACKAGE_OF[cmd] ?? cmd, { cause: err }));
        const shown = [cmd, ...args].join(' ');
        reject(new LabCommandError(shown, err.killed ? `timed out after ${timeoutMs} ms` : stderr, { cause: err }));
      },
    );
    // A command that exits without reading stdin makes this write fail with EPIPE; its exit status tells us more.
    child.stdin?.on('error', () => undefined);
    if (opts.input === undefined) child.stdin?.end();
    else child.stdin?.end(opts.input);
  });
}

/** Runs `ip -j …` and parses its JSON (an empty answer is an empty list). */
export async function ipJson<T>(args: readonly string[]): Promise<T[]> {
  const out = (await runLabCommand('ip', ['-j', ...args])).trim();
  return out === '' ? [] : (JSON.parse(out) as T[]);
}

/** Runs several `ip` commands in one process (`ip [-n NS] -batch -`); stops at the first failing line. */
export async function ipBatch(lines: readonly string[], namespace?: string): Promise<void> {
  if (lines.length === 0) return;
  const args = namespace === undefined ? ['-batch', '-'] : ['-n', namespace, '-batch', '-'];
  await runLabCommand('ip', args, { input: `${lines.join('\n')}\n` });
}
