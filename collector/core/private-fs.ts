/**
 * Files only the monitor's own user may read: the incident database (operators' notes), the sample buffer
 * (telemetry), the inventory (MQTT password hashes). Directories are created 0700, files 0600, and files
 * and directories found at start with looser modes are tightened (a deployment made before this rule
 * had them 0644 / 0755).
 *
 * Explicit modes rather than a process-wide umask: the umask would also change what other parts write on
 * purpose for others to read (report exports, generated dashboards).
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const S_ISVTX = 0o1000;

/**
 * True when a directory found in place is ours to tighten: owned by this process's user, not a shared one
 * (sticky like /tmp, or world-writable), and not a folder people work in (the working directory, a git
 * checkout, the home directory). A configured path like /tmp/incidents.db or ./incidents.db must never
 * make chmod lock others out of /tmp or the checkout.
 */
function ours(dir: string, st: Stats): boolean {
  const uid = process.getuid?.();
  if (uid === undefined || st.uid !== uid) return false;
  if ((st.mode & S_ISVTX) !== 0 || (st.mode & 0o002) !== 0) return false;
  const abs = resolve(dir);
  if (abs === process.cwd() || abs === homedir() || existsSync(join(abs, '.git'))) return false;
  return true;
}

/** `dir` (and missing parents) with mode 0700; an existing one of ours is tightened to 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = statSync(dir);
  if ((st.mode & 0o077) !== 0 && ours(dir, st)) chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Tighten an existing file of ours to 0600; a missing file is left missing. */
export function tightenFile(path: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const uid = process.getuid?.();
  if (st.isFile() && (st.mode & 0o077) !== 0 && (uid === undefined || st.uid === uid)) {
    chmodSync(path, PRIVATE_FILE_MODE);
  }
}

/** `path` exists with mode 0600 (created empty when missing, tightened when found looser). */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  tightenFile(path);
}
