// One measured wrk run against a running server: CPU time of the server's process tree from /proc
// (independent of how fast wrk is) and its memory before, during and after the load.
import { getClockTicks, processTree, sumCpuTicks, sumRssKib } from "./proc.ts";
import { runWrk, type WrkResult, type WrkRun } from "./wrk.ts";

export interface Measurement {
  readonly wrk: WrkResult;
  /** Server CPU (user + system, all processes and threads) per completed request. */
  readonly cpuUsPerRequest: number;
  readonly rssIdleKib: number;
  readonly rssPeakKib: number;
  /** `settleMs` after the load stopped: shows whether memory taken under load is given back. */
  readonly rssAfterKib: number;
}

/** Memory is sampled this often during the run: often enough to catch a per-request copy. */
const RSS_SAMPLE_MS = 100;

/**
 * Runs wrk once against the server whose tree starts at `serverPid`.
 *
 * @example await measure(server.pid, { url, connections: 64, durationSec: 10, headers, cpu: 1 }, 1000)
 */
export async function measure(
  serverPid: number,
  run: WrkRun,
  settleMs: number,
): Promise<Measurement> {
  const tree = processTree(serverPid);
  const rssIdleKib = sumRssKib(tree);
  let rssPeakKib = rssIdleKib;
  const sampler = setInterval(() => {
    rssPeakKib = Math.max(rssPeakKib, sumRssKib(tree));
  }, RSS_SAMPLE_MS);
  const ticksBefore = sumCpuTicks(tree);
  let wrk: WrkResult;
  try {
    wrk = (await runWrk(run)).result;
  } finally {
    clearInterval(sampler);
  }
  const ticks = sumCpuTicks(tree) - ticksBefore;
  rssPeakKib = Math.max(rssPeakKib, sumRssKib(tree));
  await Bun.sleep(settleMs);
  const cpuUs = (ticks * 1e6) / getClockTicks();
  return {
    wrk,
    cpuUsPerRequest: wrk.requests > 0 ? cpuUs / wrk.requests : Number.NaN,
    rssIdleKib,
    rssPeakKib,
    rssAfterKib: sumRssKib(tree),
  };
}
