/**
 * A progress line with counts and an ETA, redrawn in place on a terminal and printed every few
 * seconds otherwise (CI logs).
 */
export class ProgressBar {
  #lastPrint = 0;
  readonly #start = Date.now();
  readonly #tty: boolean;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.#tty = Boolean(out.isTTY);
  }

  update(done: number, total: number, extra = '', etaSeconds?: number): void {
    const now = Date.now();
    if (!this.#tty && now - this.#lastPrint < 3000 && done < total) return;
    this.#lastPrint = now;
    const width = 28;
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(ratio * width);
    const elapsed = (now - this.#start) / 1000;
    const eta = etaSeconds ?? (done > 0 && total > done ? ((total - done) * elapsed) / done : 0);
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${Math.round(ratio * 100)}% ETA ${formatSeconds(eta)}${extra ? `  ${extra}` : ''}`;
    this.out.write(this.#tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  done(message: string): void {
    this.out.write(this.#tty ? `\r\x1b[2K${message}\n` : `${message}\n`);
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s <= 0) return '0s';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h ? `${h}h${m}m` : m ? `${m}m${sec}s` : `${sec}s`;
}
