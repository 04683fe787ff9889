// The `cryptoscope` binary: every module in capture/commands/ registers its own subcommand,
// so adding a command never means editing this file. Command modules import their implementation only
// when they run, so starting the CLI stays cheap, and one broken command cannot take the others down.
import { Command } from "commander";
import { readdirSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface CommandModule {
  register(program: Command): void;
}

const program = new Command()
  .name("cryptoscope")
  .description("Live cryptographic inventory for the post-quantum migration")
  .showHelpAfterError();

// Next to this module: capture/commands/*.ts under tsx, build/cli/capture/commands/*.js once compiled.
const self = fileURLToPath(import.meta.url);
const ext = extname(self);
const commandsDir = join(dirname(self), "commands");
for (const file of readdirSync(commandsDir).filter((f) => f.endsWith(ext)).sort()) {
  try {
    const mod = (await import(pathToFileURL(join(commandsDir, file)).href)) as CommandModule;
    mod.register(program);
  } catch (err) {
    const name = file.slice(0, -ext.length);
    const why = `command "${name}" cannot be loaded: ${(err as Error).message.split("\n")[0]}`;
    program
      .command(name)
      .description(`(unavailable: ${why})`)
      .allowUnknownOption()
      .argument("[args...]")
      .action(() => {
        throw new Error(why);
      });
  }
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // One clear line for the user; the stack only when asked for.
  const e = err as Error;
  console.error(`cryptoscope: ${e.message}`);
  if (process.env.CRYPTOSCOPE_DEBUG) console.error(e.stack);
  process.exit(process.exitCode && process.exitCode !== 0 ? process.exitCode : 1);
}
