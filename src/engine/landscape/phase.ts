/**
 * Detecting the exploration phase (SCIENCE.md, "Setup"): after the fast learning phase the
 * training error is ≈ 0 while the loss still creeps down; all PCA/flatness analysis happens
 * there.
 *
 * Decision (documented choice): the detector works on EPOCH-level training errors. The phase
 * starts at the end of the first epoch whose training error is ≤ `errorThreshold` (0.5%):
 * "the training error stays ≤ 0.5% for one full epoch". Two ways to measure an epoch's error
 * are supported, and the caller picks one:
 *  - `recordEpoch(error)`: an error measured over the whole training set (e.g. the full-set
 *    evaluation at the end of the epoch, as the training loop does);
 *  - `recordStep(misclassified, batchSize)` for every minibatch, then `endEpoch()`: the error of
 *    the epoch's minibatches as they were trained (each sample seen once, on the weights before
 *    its step) — free, since the forward pass computes it anyway. One misclassified sample in
 *    a minibatch of 50 is already 2%, so a per-minibatch rule would be far too strict; the
 *    epoch average is the meaningful "stays ≤ threshold for one full epoch".
 *
 * Mode 'warmup' starts the phase after exactly `warmupEpochs` epochs, whatever the error.
 * In mode 'error', `warmupEpochs` (when given) is a cap: if the error never qualifies, the
 * phase is declared to start after that many epochs anyway (with `reason` saying so), which is
 * how the run configuration uses it.
 *
 * `startEpoch` counts COMPLETED epochs: startEpoch = k means the exploration phase begins after
 * epoch k (1-based), i.e. at step k·(steps per epoch); the PCA window can start there.
 */

export type PhaseDetectMode = 'error' | 'warmup';

export interface ExplorationDetectorOptions {
  /** Training-error threshold (fraction; default 0.005 = 0.5%). */
  errorThreshold?: number;
  /** 'error' (default): first epoch with error ≤ threshold; 'warmup': fixed number of epochs. */
  mode?: PhaseDetectMode;
  /** Epochs of warm-up in 'warmup' mode; the cap in 'error' mode (default: no cap there). */
  warmupEpochs?: number;
}

export interface EpochErrorRecord {
  /** 1-based epoch number. */
  epoch: number;
  error: number;
}

export class ExplorationDetector {
  readonly errorThreshold: number;
  readonly mode: PhaseDetectMode;
  readonly warmupEpochs: number | undefined;
  /** Completed epochs when the exploration phase began; null until then. */
  startEpoch: number | null = null;
  /** Why the phase started (for the UI), null until then. */
  reason: string | null = null;
  /** Per-epoch errors recorded so far. */
  readonly history: EpochErrorRecord[] = [];
  private epochs = 0;
  private stepErrors = 0;
  private stepSamples = 0;

  constructor(opts: ExplorationDetectorOptions = {}) {
    this.errorThreshold = opts.errorThreshold ?? 0.005;
    this.mode = opts.mode ?? 'error';
    this.warmupEpochs = opts.warmupEpochs;
    if (this.mode === 'warmup' && !(this.warmupEpochs !== undefined && this.warmupEpochs >= 0)) {
      throw new Error('ExplorationDetector: mode "warmup" needs warmupEpochs ≥ 0');
    }
    if (this.mode === 'warmup' && this.warmupEpochs === 0) {
      this.startEpoch = 0;
      this.reason = 'no warm-up (0 epochs)';
    }
  }

  /** True once the exploration phase has started. */
  get inExploration(): boolean {
    return this.startEpoch !== null;
  }

  /** Completed epochs so far. */
  get epochsCompleted(): number {
    return this.epochs;
  }

  /**
   * Records one completed epoch's training error (fraction). Returns true when this epoch
   * started the exploration phase.
   */
  recordEpoch(error: number): boolean {
    this.epochs++;
    this.history.push({ epoch: this.epochs, error });
    this.stepErrors = 0;
    this.stepSamples = 0;
    if (this.startEpoch !== null) return false;
    const k = this.epochs;
    if (this.mode === 'warmup') {
      if (this.warmupEpochs !== undefined && k >= this.warmupEpochs) {
        this.startEpoch = k;
        this.reason = `after ${this.warmupEpochs} warm-up epochs`;
        return true;
      }
      return false;
    }
    if (Number.isFinite(error) && error <= this.errorThreshold) {
      this.startEpoch = k;
      this.reason = `training error ${(error * 100).toFixed(2)}% ≤ ${(this.errorThreshold * 100).toFixed(2)}% over epoch ${k}`;
      return true;
    }
    if (this.warmupEpochs !== undefined && k >= this.warmupEpochs) {
      this.startEpoch = k;
      this.reason = `training error still ${(error * 100).toFixed(2)}% after the cap of ${this.warmupEpochs} epochs`;
      return true;
    }
    return false;
  }

  /** Accumulates one minibatch's misclassified count into the current epoch. */
  recordStep(misclassified: number, batchSize: number): void {
    this.stepErrors += misclassified;
    this.stepSamples += batchSize;
  }

  /**
   * Closes the current epoch using the minibatch errors recorded by `recordStep` (their
   * sample-weighted mean). Returns true when this epoch started the exploration phase.
   */
  endEpoch(): boolean {
    const err = this.stepSamples > 0 ? this.stepErrors / this.stepSamples : NaN;
    return this.recordEpoch(err);
  }

  /** Forgets everything (a new run). */
  reset(): void {
    this.startEpoch = this.mode === 'warmup' && this.warmupEpochs === 0 ? 0 : null;
    this.reason = this.startEpoch === 0 ? 'no warm-up (0 epochs)' : null;
    this.history.length = 0;
    this.epochs = 0;
    this.stepErrors = 0;
    this.stepSamples = 0;
  }
}
