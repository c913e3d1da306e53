/**
 * The progress display: one status line redrawn in place on a terminal; on a pipe (CI) the same
 * statuses as plain lines, at most one every few seconds, so logs stay short.
 */
const PLAIN_EVERY_MS = 5000;

export class Progress {
  private readonly tty = process.stdout.isTTY === true;
  private lastPlain = 0;
  private lastText = '';
  private readonly started = performance.now();
  private prefix = '';

  /** Sets the part shown before every status (the current scenario and server). */
  stage(prefix: string): void {
    this.prefix = prefix;
    this.status('');
  }

  status(text: string, force = false): void {
    const elapsed = ((performance.now() - this.started) / 1000).toFixed(0).padStart(4);
    const line = `[${elapsed}s] ${this.prefix}${text ? ` — ${text}` : ''}`;
    if (this.tty) {
      const width = process.stdout.columns ?? 120;
      process.stdout.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
      return;
    }
    const now = performance.now();
    if (force || line !== this.lastText) {
      if (force || now - this.lastPlain >= PLAIN_EVERY_MS || text === '') {
        process.stdout.write(`${line}\n`);
        this.lastPlain = now;
      }
      this.lastText = line;
    }
  }

  /** A permanent line (a result, a warning). */
  log(text: string): void {
    if (this.tty) process.stdout.write('\r\x1b[2K');
    process.stdout.write(`${text}\n`);
  }

  done(): void {
    if (this.tty) process.stdout.write('\r\x1b[2K');
  }
}
