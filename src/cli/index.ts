#!/usr/bin/env node
// The `octet` command: a table of subcommands, each loaded on demand. Add a subcommand by adding one entry.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface CliCommand {
  summary: string;
  usage: string;
  /** Resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, () => Promise<CliCommand>> = {
  quantize: async () => (await import('./quantize.js')).command,
  compare: async () => (await import('./compare.js')).command,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const lines = ['usage: octet <command> [options]', '', 'commands:'];
    for (const [n, load] of Object.entries(commands)) lines.push(`  ${n.padEnd(10)} ${(await load()).summary}`);
    lines.push('', 'octet <command> --help shows the options of a command.');
    console.log(lines.join('\n'));
    return name ? 0 : 1;
  }
  const load = commands[name];
  if (!load) {
    console.error(`octet: unknown command '${name}' (known: ${Object.keys(commands).join(', ')})`);
    return 2;
  }
  const cmd = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    console.error(`octet ${name}: ${(e as Error).message}`);
    return 1;
  }
}

/** True when this file is the process entry (also through npm's bin symlink, which `npx octet` uses). */
function isEntry(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
