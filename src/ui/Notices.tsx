/**
 * Notices at the top of the page (and of an embed): settings in the link that were not valid,
 * and a link that needs data files this browser has not loaded. Echoed values are cut short in
 * the schema, and the box wraps anything else a link can carry, so it stays inside the page.
 */
import { useConfig } from '../state/configStore';
import { useRun } from '../state/runStore';

export function Notices() {
  const notices = useConfig((s) => s.notices);
  const dismiss = useConfig((s) => s.dismissNotices);
  if (!notices.length) return null;
  return (
    <div className="notice" role="status" data-testid="url-notices">
      <p>Some settings in the link were not valid and use their defaults:</p>
      <ul>
        {notices.map((n, i) => (
          // Two keys can fail the same way: the position keeps each line its own.
          <li key={i}>{n}</li>
        ))}
      </ul>
      <button type="button" onClick={dismiss}>
        OK
      </button>
    </div>
  );
}

/** A shared link made with the sender's own MNIST files, which this browser has not loaded. */
export function DataNotice() {
  const wanted = useConfig((s) => s.data);
  const loaded = useRun((s) => s.dataset?.source ?? null);
  if (wanted !== 'idx' || loaded === 'idx') return null;
  return (
    <p className="notice" role="status" data-testid="data-notice">
      This link was made with the full MNIST data set loaded from IDX files (<code>data=idx</code>),
      which this browser has not loaded. To reproduce the run, load the four IDX files in the data
      panel; until then, Start trains on the embedded 10,000 digits and gives different numbers.
    </p>
  );
}
