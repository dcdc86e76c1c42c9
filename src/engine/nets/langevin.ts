/**
 * Langevin dynamics on W2: full-batch gradient descent on the overall training loss plus
 * isotropic Gaussian noise, w ← w − α∇L(w) + √(2αT)·ξ. Its stationary state is the Gibbs
 * distribution ∝ exp(−L/T), which obeys the Einstein relation σ_i² ∝ T·F_i² — the equilibrium
 * contrast to SGD (SCIENCE.md). Only W2 moves (W1 and W3 stay at the SGD solution), so the
 * first layer's activations are computed once and each step costs two small matrix products.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataSplit } from '../data/dataset';
import { Rng } from '../data/rng';
import { CLASSES, type MlpWeights } from './mlp';
import { firstLayerActivations } from './firstLayer';

export class LangevinW2 {
  private readonly hidden: number;
  private readonly W1: Float32Array;
  private readonly W3host: Float32Array;
  private readonly H1: tf.Tensor2D;
  private readonly H1T: tf.Tensor2D;
  private readonly Y: tf.Tensor2D;
  private readonly W3: tf.Tensor2D;
  private readonly W3T: tf.Tensor2D;
  private readonly W2: tf.Variable<tf.Rank.R2>;
  private readonly n: number;
  private readonly noiseScale: number;
  private readonly lr: number;
  private readonly rng: Rng;
  private readonly noise: Float32Array;

  constructor(start: MlpWeights, train: DataSplit, temperature: number, lr: number, seed: number) {
    const h = start.hidden;
    this.hidden = h;
    this.W1 = start.W1.slice();
    this.W3host = start.W3.slice();
    this.n = train.count;
    this.lr = lr;
    this.noiseScale = Math.sqrt(2 * lr * temperature);
    this.rng = new Rng(seed);
    this.noise = new Float32Array(h * h);
    const P = train.images.length / train.count;
    this.H1 = firstLayerActivations(train.images, start.W1, P, h, this.n);
    this.H1T = tf.transpose(this.H1);
    const oneHot = new Float32Array(this.n * CLASSES);
    for (let i = 0; i < this.n; i++) oneHot[i * CLASSES + train.labels[i]] = 1;
    this.Y = tf.tensor2d(oneHot, [this.n, CLASSES]);
    this.W3 = tf.tensor2d(start.W3, [h, CLASSES]);
    this.W3T = tf.transpose(this.W3);
    this.W2 = tf.tidy(() => tf.variable(tf.tensor2d(start.W2, [h, h])));
  }

  /** One Langevin step. Returns the full-batch loss before the step, and W2 after it if asked. */
  async step(readW2: boolean): Promise<{ loss: number; w2?: Float32Array }> {
    for (let i = 0; i < this.noise.length; i++) this.noise[i] = this.noiseScale * this.rng.normal();
    const loss = tf.tidy(() => {
      const H2 = tf.relu(tf.matMul(this.H1, this.W2));
      const Z = tf.matMul(H2, this.W3);
      const logP = tf.logSoftmax(Z);
      const L = tf.div(tf.neg(tf.sum(tf.mul(this.Y, logP))), this.n);
      const D3 = tf.sub(tf.exp(logP), this.Y);
      const D2 = tf.mul(tf.matMul(D3, this.W3T), tf.step(H2));
      const g = tf.matMul(this.H1T, D2);
      const h = this.hidden;
      this.W2.assign(
        tf.add(
          tf.sub(this.W2, tf.mul(g, tf.scalar(this.lr / this.n))),
          tf.tensor2d(this.noise, [h, h]),
        ),
      );
      return L;
    });
    const value = (await loss.data())[0];
    loss.dispose();
    if (!readW2) return { loss: value };
    const w2 = ((await this.W2.data()) as Float32Array).slice();
    return { loss: value, w2 };
  }

  async getWeights(): Promise<MlpWeights> {
    const W2 = ((await this.W2.data()) as Float32Array).slice();
    return { hidden: this.hidden, W1: this.W1.slice(), W2, W3: this.W3host.slice() };
  }

  dispose(): void {
    for (const t of [this.H1, this.H1T, this.Y, this.W3, this.W3T, this.W2]) t.dispose();
  }
}
