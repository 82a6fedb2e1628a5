export type { Site, SiteOptions } from "./embed.ts";
export { createSite } from "./embed.ts";
export type { HandlerOptions } from "./http/handler.ts";
export { DEFAULT_HANDLER_OPTIONS, handleRequest } from "./http/handler.ts";
export type { RunningServer, ServerOptions } from "./server/start-server.ts";
export { startServer } from "./server/start-server.ts";
export type { BuildOptions } from "./snapshot/build.ts";
export { buildSnapshot } from "./snapshot/build.ts";
export type { Asset, Encoding, Snapshot, Variant } from "./snapshot/types.ts";
