// The `cryptoscope` binary: every module in capture/commands/ registers its own subcommand,
// so adding a command never means editing this file. Command modules import their implementation only
// when they run, so starting the CLI stays cheap, and one broken command cannot take the others down.
import { Command } from "commander";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface CommandModule {
  register(program: Command): void;
}

const program = new Command()
  .name("cryptoscope")
  .description("Live cryptographic inventory for the post-quantum migration")
  .showHelpAfterError();

const commandsDir = join(dirname(fileURLToPath(import.meta.url)), "commands");
for (const file of readdirSync(commandsDir).filter((f) => f.endsWith(".ts")).sort()) {
  try {
    const mod = (await import(pathToFileURL(join(commandsDir, file)).href)) as CommandModule;
    mod.register(program);
  } catch (err) {
    const name = file.replace(/\.ts$/, "");
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
