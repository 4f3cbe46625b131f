#!/usr/bin/env node
// Entry point of the `tributary` command: runs the compiled CLI (npm ci builds dist/ via `prepare`).
import { runCli } from '../dist/cli.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
