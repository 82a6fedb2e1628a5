// The process entry point (bin/memserve.js runs this under Bun); main() holds the logic.
import { main } from "./main.ts";

const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
