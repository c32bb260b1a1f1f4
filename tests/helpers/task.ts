/** Runs one of the project's `deno task`s to its end, as an operator would, from the project's folder. */

const root = new URL("../..", import.meta.url).pathname;
const decoder = new TextDecoder();

/** What a finished run printed and its exit code. */
export interface TaskOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno task -q <task> ...args` in the project's folder, with no stdin. */
export async function runTask(task: string, ...args: string[]): Promise<TaskOutput> {
  const output = await new Deno.Command("deno", {
    args: ["task", "-q", task, ...args],
    cwd: root,
    stdin: "null",
  }).output();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}
