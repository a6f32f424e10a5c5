#!/usr/bin/env node
// The `codebot` command (package.json's bin): everything it does is composed in src/app/.
import { runCli } from "./app/cli.js";

runCli(process.argv.slice(2));
