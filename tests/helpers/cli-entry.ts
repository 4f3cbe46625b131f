// Runs the CLI from source in a child process (node --import tsx tests/helpers/cli-entry.ts ...),
// for tests that need a second process: the data-directory lock, several workers.
import { runCli } from '../../src/cli.js';

process.exitCode = await runCli(process.argv.slice(2));
