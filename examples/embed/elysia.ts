// memserve as the static part of an Elysia app.
//   bun examples/embed/elysia.ts [dir]   (PORT, default 3000)
import { Elysia } from "elysia";
import { createSite } from "../../src/index.ts";

export async function start(dir: string, port: number) {
  const site = await createSite(dir);
  const app = new Elysia()
    .get("/api/time", () => ({ now: Date.now() }))
    .get("/*", ({ request }) => site.fetch(request))
    .listen({ port, hostname: "127.0.0.1" });
  const server = app.server as NonNullable<typeof app.server>;
  return { site, server, stop: () => app.stop(true) };
}

if (import.meta.main) {
  const { server } = await start(
    process.argv[2] ?? "examples/site",
    Number(process.env.PORT ?? 3000),
  );
  console.log(`serving at ${server.url}`);
}
