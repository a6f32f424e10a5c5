import { spawn } from "node:child_process";

const IMAGE = process.env.SANDBOX_IMAGE ?? "codebot-sandbox:latest";

// Reads a notebook on stdin, validates it against the nbformat v4 schema (raising when it isn't
// valid) and prints what nbformat read: the cell types and, per code cell, its output types.
const CHECK = `
import json, nbformat, sys
nb = nbformat.reads(sys.stdin.read(), as_version=4)
nbformat.validate(nb)
print(json.dumps({"nbformat": [nb.nbformat, nb.nbformat_minor], "cells": [[c.cell_type, [o.output_type for o in c.get("outputs", [])]] for c in nb.cells]}))
`;

export interface NbformatReading {
  nbformat: [number, number];
  cells: Array<[string, string[]]>;
}

/**
 * Validates a notebook with Python's own nbformat (the sandbox image has it), in a container with
 * no network. Rejects with nbformat's message when the notebook is not valid.
 */
export function nbformatValidate(notebook: string | Buffer): Promise<NbformatReading> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", ["run", "--rm", "-i", "--network", "none", "--entrypoint", "python3", IMAGE, "-c", CHECK], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(stdout) as NbformatReading) : reject(new Error(`nbformat: ${stderr.slice(-4000)}`))));
    child.stdin.end(notebook);
  });
}
