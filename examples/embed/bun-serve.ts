// memserve behind your own Bun.serve: answer what the site has, route the rest yourself.
//   bun examples/embed/bun-serve.ts [dir]   (PORT, default 3000)
import { createSite } from "../../src/index.ts";

export async function start(dir: string, port: number) {
  const site = await createSite(dir, { spa: false });
  const server = Bun.serve({
    port,
    hostname: "127.0.0.1",
    fetch(request) {
      const url = new URL(request.url);
      if (url.pathname === "/api/time") return Response.json({ now: Date.now() });
      return site.fetch(request);
    },
  });
  return { site, server, stop: () => server.stop(true) };
}

if (import.meta.main) {
  const { server } = await start(
    process.argv[2] ?? "examples/site",
    Number(process.env.PORT ?? 3000),
  );
  console.log(`serving at ${server.url}`);
}
