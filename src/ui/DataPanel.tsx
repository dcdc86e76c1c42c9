/**
 * The data set in use, and the way to bring the full MNIST: choose or drop the four standard
 * IDX files (raw or .gz). A bad file gets a message naming it; the current data stays loaded.
 */
import { useId, useState } from 'react';
import { useRun } from '../state/runStore';
import { openRunFile } from './runActions';
import { workers } from './workers';

export function DataPanel() {
  const id = useId();
  const dataset = useRun((s) => s.dataset);
  const error = useRun((s) => s.datasetError);
  // Also while workers (re)start: a resumed run is queued behind their loading, and new data
  // would silently stop it.
  const busy = useRun(
    (s) => s.runState === 'training' || s.runState === 'analyzing' || s.runState === 'loading',
  );
  const [over, setOver] = useState(false);
  const load = (files: FileList | File[]) => {
    const list = Array.from(files);
    // A saved run dropped here is opened, not parsed as digits.
    const run = list.find((f) => f.name.toLowerCase().endsWith('.json'));
    if (run) {
      void openRunFile(run);
      return;
    }
    // The File handles themselves go to the worker (no copy here): the client keeps them to
    // load the same data into restarted workers.
    if (list.length) workers.loadIdx(list.map((f) => ({ name: f.name, data: f })));
  };
  return (
    <section className="data-panel" aria-label="Data set">
      <h2 className="panel-heading">Data</h2>
      <ul className="dataset-list">
        <li aria-current={dataset?.source === 'embedded' ? 'true' : undefined}>
          Embedded MNIST digits: 10,000 images (8,000 training, 2,000 test), shipped with the page
          {dataset?.source === 'embedded' ? ' — in use' : ''}
        </li>
        <li aria-current={dataset?.source === 'idx' ? 'true' : undefined}>
          Full MNIST from your own IDX files: 70,000 images (60,000 training, 10,000 test)
          {dataset?.source === 'idx' ? ' — in use' : ''}
        </li>
      </ul>
      <p data-testid="dataset-info">
        {dataset ? (
          <>
            <strong>
              {dataset.source === 'embedded' ? 'Embedded MNIST digits' : 'Your MNIST files'}
            </strong>
            : {dataset.trainCount.toLocaleString('en')} training and{' '}
            {dataset.testCount.toLocaleString('en')} test images
            {dataset.source === 'idx' ? (
              <>
                {' '}
                <button
                  type="button"
                  className="link"
                  disabled={busy}
                  onClick={() => workers.useEmbedded()}
                >
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
          load(e.dataTransfer.files);
        }}
      >
        <label htmlFor={id}>
          Full MNIST: choose or drop the four IDX files (<code>train-images-idx3-ubyte</code>,{' '}
          <code>train-labels-idx1-ubyte</code>, <code>t10k-images-idx3-ubyte</code>,{' '}
          <code>t10k-labels-idx1-ubyte</code>, raw or <code>.gz</code>)
        </label>
        <input
          id={id}
          type="file"
          multiple
          disabled={busy}
          data-testid="idx-input"
          onChange={(e) => {
            if (e.target.files) load(e.target.files);
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
