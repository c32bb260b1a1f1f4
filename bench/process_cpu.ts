/**
 * CPU time of another process, from Linux's /proc: what a benchmark charges to the server it measures.
 * `cpuMs` is user+sys of every thread, live or exited (`/proc/PID/stat` utime+stime, in 10 ms ticks);
 * `cpuUs` is the same sum at nanosecond resolution over the threads alive now (`/proc/PID/task/*\/schedstat`),
 * for runs too short for ticks. The server's threads live as long as it does, so the two agree.
 */

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User+sys CPU of the process, in ms (10 ms resolution). */
export function cpuMs(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** On-CPU time of the process's live threads, in µs (nanosecond resolution). */
export function cpuUs(pid: number): number {
  let ns = 0;
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/schedstat`).split(" ")[0]);
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return ns / 1000;
}

/** Sys (kernel) CPU of the process, in ms (10 ms resolution). */
export function kernelMs(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[12]) * 1000) / TICKS_PER_SECOND;
}
