/**
 * A progress bar for long work (corpus synthesis, training epochs, threshold sweeps): drawn with
 * cli-progress on a terminal, silent otherwise (CI logs, pipes, tests), so callers never branch.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Advance to `value` (absolute) and optionally show a short status text. */
  update(value: number, status?: string): void;
  stop(): void;
}

/**
 * Start a bar of `total` steps. `enabled` defaults to whether stderr is a terminal.
 *
 * @example const bar = progressBar('synthesise', 500); bar.update(1); bar.stop();
 */
export function progressBar(label: string, total: number, enabled: boolean = process.stderr.isTTY === true): Progress {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted} {status}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { status: '' });
  return {
    update(value: number, status?: string) {
      bar.update(value, { status: status ?? '' });
    },
    stop() {
      bar.stop();
    },
  };
}
