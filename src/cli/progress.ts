/**
 * Progress of the long commands (migrate, purge, keys rotate): on a terminal, a spinner with the
 * elapsed time on stderr while a step runs, then a ✓ or ✗ line; elsewhere (a pipe, a log
 * collector, cron) nothing until the command's one summary line on stdout.
 */

/** The stream progress goes to; a terminal only when `isTTY` is true. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

const FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";

/** Runs `task`, showing `label` with a spinner on a terminal. */
export async function step<T>(
  label: string,
  task: () => Promise<T>,
  stream: ProgressStream = process.stderr,
): Promise<T> {
  if (stream.isTTY !== true) return task();
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  let frame = 0;
  const draw = () => stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label} … ${elapsed()}\x1b[K`);
  draw();
  const timer = setInterval(draw, 100);
  try {
    const result = await task();
    stream.write(`\r✓ ${label} (${elapsed()})\x1b[K\n`);
    return result;
  } catch (error) {
    stream.write(`\r✗ ${label} (${elapsed()})\x1b[K\n`);
    throw error;
  } finally {
    clearInterval(timer);
  }
}

/** The summary line a long command ends with, on stdout: `certgate purge: … in 12 ms`. */
export function summary(command: string, text: string, startedAt: number): void {
  process.stdout.write(`certgate ${command}: ${text} in ${Date.now() - startedAt} ms\n`);
}
