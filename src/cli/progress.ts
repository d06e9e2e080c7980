import cliProgress from 'cli-progress';
import type { StepMetrics } from '../train/trainer.js';

/** A progress bar on a terminal; plain periodic lines when output goes to a file or CI log. */
export class TrainProgress {
  private bar: cliProgress.SingleBar | null = null;
  private lastBpd = '–';

  constructor(private readonly total: number, private readonly start: number, private readonly every = 10,
    private readonly tty = !!process.stderr.isTTY) {}

  begin(): void {
    if (!this.tty) return;
    this.bar = new cliProgress.SingleBar({
      format: 'train |{bar}| {value}/{total} steps | {sps} step/s | {ips} img/s | loss {loss} | held-out {bpd} bpd | ETA {eta_formatted}',
      hideCursor: true,
      stream: process.stderr,
    }, cliProgress.Presets.shades_classic);
    this.bar.start(this.total, this.start, { sps: '–', ips: '–', loss: '–', bpd: this.lastBpd });
  }

  step(m: StepMetrics): void {
    const fields = { sps: m.stepsPerSecond.toFixed(2), ips: m.imagesPerSecond.toFixed(1), loss: m.loss.toFixed(4), bpd: this.lastBpd };
    if (this.bar) this.bar.update(m.step, fields);
    else if (m.step % this.every === 0 || m.step === this.total)
      console.log(`step ${m.step}/${this.total}  loss ${fields.loss} bits/dim  ${fields.ips} img/s  lr ${m.lr.toExponential(2)}  |g| ${m.gradNorm.toFixed(3)}`);
  }

  note(message: string): void {
    if (this.bar) this.bar.stop();
    console.log(message);
    if (this.bar) this.bar.start(this.total, this.bar.getProgress() * this.total, { bpd: this.lastBpd });
  }

  heldOut(epoch: number, bpd: number | null): void {
    if (bpd === null) return;
    this.lastBpd = bpd.toFixed(4);
    this.note(`epoch ${epoch + 1}: held-out ${this.lastBpd} bits/dim`);
  }

  end(): void {
    this.bar?.stop();
  }
}

/**
 * Progress of a counted job (`inflow demo` scoring digits): a bar on a terminal's stderr; without
 * a terminal (a CI log, a pipe) one plain line every `every` ms, so a slow run still shows it is
 * alive without flooding the log.
 */
export class CountProgress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly started = performance.now();
  private lastLine = this.started;

  constructor(private readonly label: string, private readonly total: number, private readonly unit: string,
    private readonly tty = !!process.stderr.isTTY, private readonly every = 5000,
    private readonly write: (line: string) => void = (line) => console.log(line)) {}

  begin(): void {
    if (!this.tty) return;
    this.bar = new cliProgress.SingleBar({
      format: `${this.label} |{bar}| {value}/{total} ${this.unit} | {rate} ${this.unit}/s | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
    }, cliProgress.Presets.shades_classic);
    this.bar.start(this.total, 0, { rate: '–' });
  }

  update(done: number): void {
    const now = performance.now();
    const rate = done / Math.max(1e-3, (now - this.started) / 1000);
    if (this.bar) this.bar.update(done, { rate: rate.toFixed(1) });
    else if (now - this.lastLine >= this.every && done < this.total) {
      this.lastLine = now;
      this.write(`${this.label}: ${done}/${this.total} ${this.unit} (${rate.toFixed(1)} ${this.unit}/s)`);
    }
  }

  end(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

/** The last `size` steps' metrics, for the running means a progress line shows (NaN before the first step). */
export class RecentSteps {
  private readonly steps: StepMetrics[] = [];
  constructor(private readonly size = 50) {}

  push(m: StepMetrics): void {
    this.steps.push(m);
    if (this.steps.length > this.size) this.steps.shift();
  }

  mean(f: (m: StepMetrics) => number | undefined): number {
    return this.steps.reduce((s, m) => s + (f(m) ?? NaN), 0) / this.steps.length;
  }

  get length(): number { return this.steps.length; }
  get last(): StepMetrics | undefined { return this.steps.at(-1); }
}
