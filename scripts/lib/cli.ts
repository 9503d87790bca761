/**
 * What every command of the project does with `--help` (or `-h`): print its usage on stdout and exit 0,
 * before its own argument parsing can call the flag unknown. Arguments after `--` are not looked at.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { errorMessage } from '../../collector/core/errors.ts';

export function helpRequested(argv: readonly string[] = process.argv.slice(2)): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export function exitOnHelp(usage: string, argv: readonly string[] = process.argv.slice(2)): void {
  if (!helpRequested(argv)) return;
  process.stdout.write(usage.endsWith('\n') ? usage : `${usage}\n`);
  process.exit(0);
}

/** A usage error of `command`: the message and the usage on stderr, exit 2. */
export function usageError(command: string, usage: string, message: string): never {
  console.error(`${command}: ${message}\n${usage}`);
  process.exit(2);
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * The options of a command: `--help` answered with its usage first (exit 0), then Node's strict parser; an
 * unknown or malformed option is a usage error naming it (exit 2).
 */
export function parseCommandArgs<const O extends Options>(
  command: string,
  usage: string,
  options: O,
  argv: readonly string[] = process.argv.slice(2),
): ReturnType<typeof parseArgs<{ options: O }>>['values'] {
  exitOnHelp(usage, argv);
  try {
    return parseArgs({ args: [...argv], options }).values;
  } catch (err) {
    return usageError(command, usage, errorMessage(err));
  }
}

/** parseCommandArgs for a command that also takes positional arguments (file names). */
export function parseCommandLine<const O extends Options>(
  command: string,
  usage: string,
  options: O,
  argv: readonly string[] = process.argv.slice(2),
): ReturnType<typeof parseArgs<{ options: O; allowPositionals: true }>> {
  exitOnHelp(usage, argv);
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true });
  } catch (err) {
    return usageError(command, usage, errorMessage(err));
  }
}

/** The whole number `raw` given as `--name`, in [min, max]; anything else is a usage error saying so. */
export function intOption(
  command: string,
  usage: string,
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    usageError(command, usage, `--${name} must be a whole number from ${min} to ${max}, got "${raw ?? ''}"`);
  return n;
}
