// memserve as the static part of a Hono app.
//   bun examples/embed/hono.ts [dir]   (PORT, default 3000)
import { Hono } from "hono";
import { createSite } from "../../src/index.ts";

export async function start(dir: string, port: number) {
  const site = await createSite(dir);
  const app = new Hono();
  app.get("/api/time", (c) => c.json({ now: Date.now() }));
  // Everything else is the site; HEAD requests reach the GET route in Hono.
  app.get("*", (c) => site.fetch(c.req.raw));
  const server = Bun.serve({ port, hostname: "127.0.0.1", fetch: app.fetch });
  return { site, server, stop: () => server.stop(true) };
}

if (import.meta.main) {
  const { server } = await start(
    process.argv[2] ?? "examples/site",
    Number(process.env.PORT ?? 3000),
  );
  console.log(`serving at ${server.url}`);
}
