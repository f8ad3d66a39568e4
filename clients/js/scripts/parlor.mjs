// Starts the built parlor binary on 127.0.0.1 (a random port unless one is given) with a data
// directory of its own, for the generator and the tests. The binary: $PARLOR_BIN, else
// $CARGO_TARGET_DIR/debug/parlor, else target/debug/parlor at the repository's root.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const WAIT_MS = 20000;

export function parlorBin() {
  const candidates = [process.env.PARLOR_BIN, process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, 'debug', 'parlor'), join(REPO, 'target', 'debug', 'parlor')];
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new Error(`no parlor binary (tried ${candidates.filter(Boolean).join(', ')}): run \`cargo build\` first`);
  return found;
}

/**
 * A parlor process: {url, port, dataDir, log, stop(), restart()}. `env` adds PARLOR_* settings
 * (nothing else of the caller's PARLOR_* environment is passed on). `restart` stops the process
 * and starts it again on the same port with the same data.
 */
export async function startParlor({ env = {}, dataDir = null, port = 0, ownsDir = !dataDir } = {}) {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'parlor-js-'));
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PARLOR_')));
  const log = [];
  const child = spawn(parlorBin(), ['serve', '--bind', `127.0.0.1:${port}`, '--data-dir', dir], {
    env: { ...inherited, PARLOR_LOG: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const address = await new Promise((resolveAddress, reject) => {
    const timer = setTimeout(() => reject(new Error(`parlor did not start:\n${log.join('\n')}`)), WAIT_MS);
    let buffered = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        log.push(line);
        const match = /addr=(\S+)/.exec(line);
        if (match && line.includes('listening')) {
          clearTimeout(timer);
          resolveAddress(match[1]);
        }
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`parlor exited (${code}):\n${log.join('\n')}`)); });
  });
  const exited = new Promise((resolveExit) => child.on('exit', resolveExit));
  const stopProcess = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
      await exited;
      clearTimeout(timer);
    }
  };
  const actualPort = Number(address.split(':').pop());
  return {
    url: `http://${address}`,
    port: actualPort,
    dataDir: dir,
    log,
    /** Stops the process, keeping the data directory (for `restart`). */
    stopProcess,
    async restart() {
      await stopProcess();
      return startParlor({ env, dataDir: dir, port: actualPort, ownsDir });
    },
    async stop() {
      await stopProcess();
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
