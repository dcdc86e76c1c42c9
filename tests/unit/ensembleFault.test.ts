// The page's note when a sweep's GPU ensemble stops on a fault (issue 14): per run, how far it
// got (the epoch of the checkpoint it continues from on the CPU pool), and what starts again.
import { describe, expect, it } from 'vitest';
import { ensembleFaultNote } from '../../src/ui/ensembleFault';

const why = 'the WebGPU device was lost';

describe('ensembleFaultNote', () => {
  it('gives the span of the checkpoints the runs continue from, of their epochs', () => {
    const left = [12, 31, 20, 12, 25].map((e) => ({ checkpointEpoch: e, epochs: 70 }));
    expect(ensembleFaultNote(why, left, 3)).toBe(
      'the GPU ensemble stopped (the WebGPU device was lost); of its 5 runs not yet trained, 5 continue on the CPU pool from their last checkpoints (epochs 12–31 of 70); the 3 already trained are kept',
    );
  });

  it('says which runs start again (no checkpoint yet) and counts one run in the singular', () => {
    const left = [
      { checkpointEpoch: 1, epochs: 2 },
      { checkpointEpoch: null, epochs: 2 },
    ];
    expect(ensembleFaultNote(why, left, 1)).toBe(
      'the GPU ensemble stopped (the WebGPU device was lost); of its 2 runs not yet trained, 1 continues on the CPU pool from its last checkpoint (epoch 1 of 2) and 1 starts again on the CPU pool (no checkpoint yet; the same seed, so the same run); the 1 already trained is kept',
    );
  });

  it('runs of different lengths: the span of their epochs too', () => {
    const left = [
      { checkpointEpoch: 4, epochs: 5 },
      { checkpointEpoch: 4, epochs: 7 },
    ];
    expect(ensembleFaultNote(why, left, 0)).toMatch(
      /, 2 continue on the CPU pool from their last checkpoints \(epoch 4 of 5–7\); the 0 already trained are kept$/,
    );
  });
});
