// `memserve --help`: every flag, with its default. The parser is args.ts.
import { SENDFILE_LARGE, SENDFILE_MAX, SENDFILE_MIN } from "../server/start-server.ts";
export const USAGE = `Usage: memserve <dir> [options]
       memserve build <dir>   compress at maximum quality into the cache dir, then exit
       memserve prune <dir>   delete cache entries that no file of <dir> uses

Serve a directory from memory: every file is loaded and precompressed
(brotli, zstd, gzip) at startup, and every request is answered from RAM.

Options:
  -p, --port <n>             Port to listen on (default 8080; 0 picks a free one)
  -H, --host <addr>          Address to bind (default 127.0.0.1; 0.0.0.0 for all)
  -w, --workers <n>          Server processes sharing the port (default: one per CPU);
                             they share one copy of the files (see README)
  -s, --spa                  Serve /index.html for unknown paths without an extension
      --clean-urls           Serve /about from about.html, and redirect /about.html there
      --trailing-slash <m>   always: redirect /about to /about/; never: /about/ to /about
                             (default: directories get a slash, clean URLs do not)
      --cors                 Allow cross-origin requests (Access-Control-Allow-Origin: *)
      --header "Name: value" Add a header to every response (repeatable)
      --max-age <seconds>    max-age for files that are neither hashed nor HTML (default 3600)
      --cache-control <v>    Cache-Control for every file, replacing the defaults
      --max-ranges <n>       Most byte ranges answered in one request (default 16)
      --shutdown-timeout <s> Seconds to let responses finish on SIGTERM (default 10)
      --engine <name>        http1 (default): memserve's HTTP/1.1 engine; fetch: Bun.serve
      --sendfile <mode>      auto (default): send bodies from --sendfile-min up to
                             --sendfile-max bytes, and from --sendfile-large on, with
                             sendfile(2) where it can be had (Linux, http1 engine); on: the
                             same, and refuse to start without it; off: write every body
      --sendfile-min <bytes> Shortest body sent with sendfile (default ${SENDFILE_MIN})
      --sendfile-max <bytes> Bodies this long or longer are written (default ${SENDFILE_MAX};
                             0: no limit)...
      --sendfile-large <bytes>
                             ...up to this length, sent with sendfile again from there on
                             (default ${SENDFILE_LARGE}; 0: never)
      --compression <mode>   both (default): serve after fast compression, then upgrade to
                             maximum quality in the background; fast: fast only; max: wait
                             for maximum quality (brotli 11, zstd 19, gzip 9) before serving
      --dictionary-versions <n>  Versioned files (app.3f9a1c2b.js) are announced as
                             dictionaries (RFC 9842), and a new version is sent as a
                             delta against the last <n> (default 3; 0: off)
      --cache-dir <dir>      Keep maximum-quality encodings here between runs, so a restart
                             with unchanged files is at maximum at once
                             (default $XDG_CACHE_HOME/memserve or ~/.cache/memserve)
      --no-cache-dir         Keep nothing between runs
      --no-watch             Do not reload when files change (a frozen deploy); by
                             default memserve reloads 200 ms after the last change, and
                             SIGHUP reloads either way
      --reuse-port           Let a new memserve bind the same port before this one stops
                             (zero-downtime restart; see README)
      --max-connections <n>  Open connections at most; more are answered 503 (default
                             10000; 0 for no limit)
      --tls-cert <file>      Serve HTTPS with this PEM certificate (chain); SIGHUP reloads it
      --tls-key <file>       ... and this PEM private key
      --tls-ca <file>        ... and these PEM CA certificates (optional)
      --redirect-http <n>    Also listen for plain HTTP on port <n> and redirect it (308)
                             to https
      --http2                With --engine fetch and TLS: offer HTTP/2 (Bun's, experimental)
      --admin-port <n>       Serve /healthz, /readyz and /metrics (Prometheus) on
                             127.0.0.1:<n> (default: off)
      --admin-host <addr>    Address of the admin port (default 127.0.0.1; 0.0.0.0 for
                             Kubernetes probes)
      --access-log <file|->  Write an access log line per response (default: off)
      --access-log-format <f> combined (default) or json
  -h, --help                 Show this help
  -v, --version              Show the version

Defaults for Cache-Control: names with a content hash (app.3f9a1c2b.js) are
"public, max-age=31536000, immutable", HTML is "no-cache", others "public, max-age=3600".
A 404.html at the root is used as the body of 404 responses. _headers and
_redirects at the root (Netlify's syntax) are applied, never served (see README).

Every option can also be set in the environment: MEMSERVE_PORT=3000,
MEMSERVE_SPA=1, MEMSERVE_CACHE_DIR=..., MEMSERVE_HEADER="A: 1\\nB: 2", and
MEMSERVE_DIR for <dir>. Options on the command line win over the environment.
PORT (set by cloud platforms) is the port when neither --port nor MEMSERVE_PORT is.

Examples:
  memserve ./dist
  memserve ./public --port 3000 --host 0.0.0.0 --spa
  memserve . --header "X-Frame-Options: DENY" --cors`;
