/**
 * How `wait` shows an operation's progress, on stderr so that stdout holds only the result. In a
 * terminal: a live bar when the metadata carries a percentage, a spinner until then. Elsewhere
 * (a pipe, a file, CI): a plain line each time what it would show changes, and never an ANSI code.
 */
import type { Operation } from '@longrun/client';
import cliProgress from 'cli-progress';
import ora, { type Ora } from 'ora';
import { progressPercent, progressText, stateOf } from './format.js';

export interface ProgressDisplay {
  /** Shows the operation's latest state. */
  update(operation: Operation): void;
  /** Erases a live display (the result is printed next); a no-op for plain lines. */
  stop(): void;
}

/**
 * A live display only when both stdout and stderr are terminals: stdout, because a redirected
 * result means a script is reading; stderr, because that is where the display is drawn. A
 * terminal that reports no width (some pseudo-terminals) cannot be redrawn line by line: ora then
 * counts every frame as endless lines to erase.
 */
export function progressDisplay(name: string): ProgressDisplay {
  const live = process.stdout.isTTY && process.stderr.isTTY && process.stderr.columns > 0;
  return live ? new LiveDisplay(name) : new PlainDisplay(name);
}

class LiveDisplay implements ProgressDisplay {
  #spinner: Ora | undefined;
  #bar: cliProgress.SingleBar | undefined;

  constructor(readonly name: string) {
    // ora would put stdin in raw mode to swallow keystrokes; Ctrl-C must stay a plain SIGINT.
    this.#spinner = ora({ text: `waiting for ${name}`, stream: process.stderr, isEnabled: true, discardStdin: false });
    this.#spinner.start();
  }

  update(operation: Operation): void {
    const percent = progressPercent(operation.metadata);
    // Once a figure has been seen the bar stays; an update without one leaves it where it was.
    if (percent === undefined) return;
    if (!this.#bar) {
      this.#spinner?.stop();
      this.#spinner = undefined;
      this.#bar = new cliProgress.SingleBar(
        {
          format: `${this.name} [{bar}] {percentage}%`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(100, percent);
    } else {
      this.#bar.update(percent);
    }
  }

  stop(): void {
    this.#spinner?.stop();
    this.#bar?.stop();
  }
}

class PlainDisplay implements ProgressDisplay {
  #last = '';

  constructor(readonly name: string) {
    process.stderr.write(`waiting for ${name}\n`);
  }

  update(operation: Operation): void {
    const line = `${this.name}: ${[stateOf(operation), progressText(operation)].filter(Boolean).join(' ')}`;
    if (line === this.#last) return;
    this.#last = line;
    process.stderr.write(`${line}\n`);
  }

  stop(): void {}
}
