/**
 * `--redirect-http <port>`: plain HTTP on `port`, every request answered 308 with the same path and
 * query on https (RFC 9110 §15.4.9: the method and body are kept). The host is the request's own
 * (without its port) when it is a valid host, else the address memserve listens on.
 */
export function startRedirect(
  host: string,
  port: number,
  httpsPort: number,
): { readonly port: number; stop(): void } {
  const server = Bun.serve({
    port,
    hostname: host,
    development: false,
    fetch(request) {
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        // Bun builds the URL from Host: one that is no host name cannot be redirected to.
        return new Response("400 Bad Request\n", { status: 400 });
      }
      const target = new URL(`${url.pathname}${url.search}`, `https://${hostOf(request, host)}`);
      if (httpsPort !== 443) target.port = String(httpsPort);
      return new Response(null, {
        status: 308,
        headers: { location: target.href, "content-length": "0" },
      });
    },
  });
  return { port: server.port ?? port, stop: () => void server.stop(true) };
}

/** The Host field's name part when it is a plain host name or address; else `fallback`. */
function hostOf(request: Request, fallback: string): string {
  const field = request.headers.get("host") ?? "";
  const name = field.startsWith("[") ? field.slice(0, field.indexOf("]") + 1) : field.split(":")[0];
  if (name !== undefined && /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\])$/.test(name)) return name;
  return fallback.includes(":") ? `[${fallback}]` : fallback;
}
