/**
 * The data set in use, and the way to bring the full MNIST: choose or drop the four standard
 * IDX files (raw or .gz). A bad file gets a message naming it; the current data stays loaded.
 */
import { useId, useState } from 'react';
import { useRun } from '../state/runStore';
import { workers } from './workers';

async function readFiles(list: FileList | File[]): Promise<{ name: string; bytes: ArrayBuffer }[]> {
  return Promise.all(Array.from(list).map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
}

export function DataPanel() {
  const id = useId();
  const dataset = useRun((s) => s.dataset);
  const error = useRun((s) => s.datasetError);
  const busy = useRun((s) => s.runState === 'training' || s.runState === 'analyzing');
  const [over, setOver] = useState(false);
  const load = async (files: FileList | File[]) => {
    if (files.length) workers.loadIdx(await readFiles(files));
  };
  return (
    <section className="data-panel" aria-label="Data set">
      <p data-testid="dataset-info">
        {dataset ? (
          <>
            <strong>{dataset.source === 'embedded' ? 'Embedded MNIST digits' : 'Your MNIST files'}</strong>:{' '}
            {dataset.trainCount.toLocaleString('en')} training and {dataset.testCount.toLocaleString('en')} test images
            {dataset.source === 'idx' ? (
              <>
                {' '}
                <button type="button" className="link" disabled={busy} onClick={() => workers.useEmbedded()}>
                  back to the embedded digits
                </button>
              </>
            ) : null}
          </>
        ) : (
          'Loading the digits…'
        )}
      </p>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void load(e.dataTransfer.files);
        }}
      >
        <label htmlFor={id}>
          Full MNIST: choose or drop the four IDX files (<code>train-images-idx3-ubyte</code>,{' '}
          <code>train-labels-idx1-ubyte</code>, <code>t10k-images-idx3-ubyte</code>, <code>t10k-labels-idx1-ubyte</code>
          , raw or <code>.gz</code>)
        </label>
        <input
          id={id}
          type="file"
          multiple
          disabled={busy}
          data-testid="idx-input"
          onChange={(e) => {
            if (e.target.files) void load(e.target.files);
            e.target.value = '';
          }}
        />
      </div>
      {error ? (
        <p className="error-box" role="alert" data-testid="dataset-error">
          Could not load those files — {error}. The current data set is still loaded.
        </p>
      ) : null}
    </section>
  );
}
