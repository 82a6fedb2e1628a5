// Side by side: the same requests to memserve and to nginx (configured as in the benchmark), with
// each answer's status and headers, so differences in semantics are visible at a glance.
// Usage: bun bench/compare.ts [dir]   (default examples/site; writes sidecars into a temp copy)
import { chmodSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { launchServer, type RunningServer } from "./servers.ts";
import { writeSidecars } from "./sidecars.ts";

const AE = "gzip, deflate, br, zstd";

/** [label, method, path, extra request header lines] */
const REQUESTS: readonly (readonly [string, string, string, string])[] = [
  ["home, browser AE", "GET", "/", `Accept-Encoding: ${AE}\r\n`],
  ["css, no AE", "GET", "/css/site.css", ""],
  ["css, gzip only", "GET", "/css/site.css", "Accept-Encoding: gzip\r\n"],
  ["png (one variant)", "GET", "/img/hero.png", `Accept-Encoding: ${AE}\r\n`],
  ["HEAD css", "HEAD", "/css/site.css", `Accept-Encoding: ${AE}\r\n`],
  ["range 0-99", "GET", "/img/hero.png", "Range: bytes=0-99\r\n"],
  ["two ranges", "GET", "/img/hero.png", "Range: bytes=0-9,20-29\r\n"],
  ["range past end", "GET", "/img/hero.png", "Range: bytes=999999-\r\n"],
  ["directory no slash", "GET", "/about", ""],
  ["missing page", "GET", "/nope", ""],
  ["dotfile", "GET", "/.env", ""],
  ["traversal", "GET", "/%2e%2e/%2e%2e/etc/passwd", ""],
  ["POST", "POST", "/", "Content-Length: 0\r\n"],
  ["OPTIONS", "OPTIONS", "/", ""],
];

interface Answer {
  readonly status: string;
  readonly headers: string[];
}

async function ask(url: string, method: string, path: string, extra: string): Promise<Answer> {
  const { port, hostname } = new URL(url);
  const raw = `${method} ${path} HTTP/1.1\r\nHost: ${hostname}\r\n${extra}Connection: close\r\n\r\n`;
  const chunks: Uint8Array[] = [];
  await new Promise<void>((done, fail) => {
    Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        open: (socket) => {
          socket.write(raw);
        },
        data: (_socket, data) => {
          chunks.push(new Uint8Array(data));
        },
        close: () => done(),
        error: (_socket, error) => fail(error),
      },
    }).catch(fail);
  });
  const text = Buffer.concat(chunks).toString("latin1");
  const [statusLine = "", ...lines] = text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n");
  const headers = lines
    .map(
      (line) =>
        `${line.slice(0, line.indexOf(":")).toLowerCase()}:${line.slice(line.indexOf(":") + 1)}`,
    )
    .filter((line) => !line.startsWith("date:") && !line.startsWith("server:"))
    .sort();
  return { status: statusLine.replace("HTTP/1.1 ", ""), headers };
}

async function answersOf(server: RunningServer): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (const [, method, path, extra] of REQUESTS) {
    answers.push(await ask(server.url, method, path, extra));
  }
  await server.stop();
  return answers;
}

const repo = resolve(import.meta.dir, "..");
const workDir = mkdtempSync(join(tmpdir(), "memserve-compare-"));
// nginx workers run as nobody when started as root: they must be able to enter the copy.
chmodSync(workDir, 0o755);
try {
  const root = join(workDir, "site");
  cpSync(resolve(process.argv[2] ?? join(repo, "examples/site")), root, { recursive: true });
  await writeSidecars(root);
  const ctx = { repo, root, workDir, cpu: 0, startupTimeoutMs: 60_000 };
  const memserve = await answersOf(await launchServer("memserve", ctx));
  const nginx = await answersOf(await launchServer("nginx", ctx));
  console.log("| request | memserve | nginx |\n| --- | --- | --- |");
  REQUESTS.forEach(([label, method, path, extra], i) => {
    const cell = (a: Answer | undefined) =>
      a === undefined ? "" : [`**${a.status}**`, ...a.headers].join("<br>");
    const request = `${label}: \`${method} ${path}\`${extra ? ` \`${extra.trim()}\`` : ""}`;
    console.log(`| ${request} | ${cell(memserve[i])} | ${cell(nginx[i])} |`);
  });
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
