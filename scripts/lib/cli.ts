/**
 * What every command of the project does with `--help` (or `-h`): print its usage on stdout and exit 0,
 * before its own argument parsing can call the flag unknown. Arguments after `--` are not looked at.
 */
export function helpRequested(argv: readonly string[] = process.argv.slice(2)): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export function exitOnHelp(usage: string, argv: readonly string[] = process.argv.slice(2)): void {
  if (!helpRequested(argv)) return;
  process.stdout.write(usage.endsWith('\n') ? usage : `${usage}\n`);
  process.exit(0);
}
