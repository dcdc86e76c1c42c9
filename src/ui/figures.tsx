/**
 * The figures by id (their `data-figure` values): the article places them by id, and
 * `?embed=<id>` shows one of them alone. Each is wrapped in an error boundary, so a figure that
 * cannot draw some data says so instead of blanking the page.
 */
import { useRun } from '../state/runStore';
import { useUniversality } from '../state/universalityStore';
import { useForgetting } from '../state/forgettingStore';
import { FigureBoundary } from './FigureBoundary';
import type { UniversalityMode } from '../protocol/messages';
import { Suspense, createElement, lazy, type ComponentType, type ReactNode } from 'react';
import { workers } from './workers';

/** Every view's loader, so the full page can have them all before it draws (preloadFigures). */
const loaders: (() => Promise<unknown>)[] = [];

/**
 * A view whose code loads when it is first shown. Once loaded it renders at once; until then it
 * suspends (React.lazy), so the figure waits inside its Suspense.
 */
function view<K extends string, P extends object>(
  load: () => Promise<Record<K, ComponentType<P>>>,
  name: K,
): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  const get = () =>
    load().then((m) => {
      loaded = m[name];
      return loaded;
    });
  loaders.push(get);
  const Lazy = lazy(() => get().then((c) => ({ default: c })));
  return function View(props: P) {
    return loaded ? createElement(loaded, props) : createElement(Lazy, props);
  };
}

/**
 * Loads every figure's code: the full page awaits it before it draws, so its figures appear
 * together, as one page, instead of one by one.
 */
export const preloadFigures = (): Promise<unknown> => Promise.all(loaders.map((l) => l()));

/** Each figure's code loads when it is first shown (an embed loads only its own). */
const ActiveTemperatureView = view(
  () => import('../views/ActiveTemperatureView'),
  'ActiveTemperatureView',
);
const ArchitectureComparisonView = view(
  () => import('../views/ArchitectureComparisonView'),
  'ArchitectureComparisonView',
);
const EffectiveDimensionView = view(
  () => import('../views/EffectiveDimensionView'),
  'EffectiveDimensionView',
);
const HyperSweepView = view(() => import('../views/HyperSweepView'), 'HyperSweepView');
const OptimizerComparisonView = view(
  () => import('../views/OptimizerComparisonView'),
  'OptimizerComparisonView',
);
const WidthSpectraView = view(() => import('../views/WidthSpectraView'), 'WidthSpectraView');
const CumulativeVarianceView = view(
  () => import('../views/CumulativeVarianceView'),
  'CumulativeVarianceView',
);
const EinsteinView = view(() => import('../views/EinsteinView'), 'EinsteinView');
const CurvatureFlatnessView = view(
  () => import('../views/CurvatureFlatnessView'),
  'CurvatureFlatnessView',
);
const HessianSpectrumView = view(
  () => import('../views/HessianSpectrumView'),
  'HessianSpectrumView',
);
const EdgeOfStabilityView = view(
  () => import('../views/EdgeOfStabilityView'),
  'EdgeOfStabilityView',
);
const NoiseShapingView = view(() => import('../views/NoiseShapingView'), 'NoiseShapingView');
const SamplingComparisonView = view(
  () => import('../views/SamplingComparisonView'),
  'SamplingComparisonView',
);
const FlatnessRankView = view(() => import('../views/FlatnessRankView'), 'FlatnessRankView');
const LossProfileView = view(() => import('../views/LossProfileView'), 'LossProfileView');
const MinibatchEnsembleView = view(
  () => import('../views/MinibatchEnsembleView'),
  'MinibatchEnsembleView',
);
const NoiseStrengthView = view(() => import('../views/NoiseStrengthView'), 'NoiseStrengthView');
const SpectrumView = view(() => import('../views/SpectrumView'), 'SpectrumView');
const TemperatureFlatnessView = view(
  () => import('../views/TemperatureFlatnessView'),
  'TemperatureFlatnessView',
);
const TemperatureTrajectoryView = view(
  () => import('../views/TemperatureTrajectoryView'),
  'TemperatureTrajectoryView',
);
const TrainingCurvesView = view(() => import('../views/TrainingCurvesView'), 'TrainingCurvesView');
const TrajectoryView = view(() => import('../views/TrajectoryView'), 'TrajectoryView');
const VarianceFlatnessView = view(
  () => import('../views/VarianceFlatnessView'),
  'VarianceFlatnessView',
);
const VelocityCorrelationView = view(
  () => import('../views/VelocityCorrelationView'),
  'VelocityCorrelationView',
);
const ConstraintCountView = view(
  () => import('../views/ConstraintCountView'),
  'ConstraintCountView',
);
const ForgettingCurvesView = view(
  () => import('../views/ForgettingCurvesView'),
  'ForgettingCurvesView',
);
const ModeDisplacementView = view(
  () => import('../views/ModeDisplacementView'),
  'ModeDisplacementView',
);
const TaskDigitsView = view(() => import('../views/TaskDigitsView'), 'TaskDigitsView');
const TradeoffView = view(() => import('../views/TradeoffView'), 'TradeoffView');

const requestProfile = (run: 'sgd' | 'langevin', rank: number) => workers.requestProfile(run, rank);

export interface FigureEntry {
  id: string;
  title: string;
  render: () => ReactNode;
  /** Section 7's figures: the sweep that fills them (their embed runs it instead of a run). */
  sweep?: UniversalityMode;
  /** Section 6's figures: drawn from the forgetting sweep (their embed runs it). */
  forgetting?: true;
}

/** Every figure, in the order of the article. */
export const FIGURES: readonly FigureEntry[] = [
  { id: 'training', title: 'Training curves', render: () => <TrainingCurvesView /> },
  { id: 'spectrum', title: 'PCA spectrum', render: () => <SpectrumView /> },
  { id: 'cumulative', title: 'Cumulative variance', render: () => <CumulativeVarianceView /> },
  { id: 'trajectory', title: 'The trajectory in mode space', render: () => <TrajectoryView /> },
  {
    id: 'profiles',
    title: 'Loss along PCA modes',
    render: () => <LossProfileView onRequestProfile={requestProfile} />,
  },
  { id: 'flatness', title: 'Flatness by mode', render: () => <FlatnessRankView /> },
  {
    id: 'variance-flatness',
    title: 'The inverse variance–flatness relation',
    render: () => <VarianceFlatnessView />,
  },
  {
    id: 'curvature-flatness',
    title: 'Curvature against flatness',
    render: () => <CurvatureFlatnessView />,
  },
  {
    id: 'hessian-spectrum',
    title: 'The top of the Hessian spectrum and the PCA modes',
    render: () => <HessianSpectrumView />,
  },
  {
    id: 'edge-of-stability',
    title: 'Sharpness along training: the edge of stability',
    render: () => <EdgeOfStabilityView />,
  },
  {
    id: 'einstein',
    title: 'Which Langevin modes pass the equilibrium test',
    render: () => <EinsteinView />,
  },
  {
    id: 'noise-strength',
    title: 'Noise strength and correlation time',
    render: () => <NoiseStrengthView />,
  },
  {
    id: 'velocity-correlation',
    title: 'Velocity correlations',
    render: () => <VelocityCorrelationView />,
  },
  {
    id: 'minibatch-ensemble',
    title: 'The minibatch ensemble',
    render: () => <MinibatchEnsembleView />,
  },
  {
    id: 'active-temperature',
    title: 'Active temperature',
    render: () => <ActiveTemperatureView />,
  },
  {
    id: 'temperature-flatness',
    title: 'Temperature against flatness',
    render: () => <TemperatureFlatnessView />,
  },
  {
    id: 'temperature-trajectory',
    title: 'Temperature along training',
    render: () => <TemperatureTrajectoryView />,
  },
  {
    id: 'sampling-comparison',
    title: 'Velocity correlation with and without replacement',
    render: () => <SamplingComparisonView />,
  },
  {
    id: 'noise-shaping',
    title: 'Training with four kinds of noise from the same start',
    render: () => <NoiseShapingView />,
  },
  {
    id: 'optimizer-comparison',
    title: 'Variance against flatness for three optimizers',
    render: () => <OptimizerComparisonView />,
    sweep: 'optimizers',
  },
  {
    id: 'effective-dimension',
    title: 'Effective dimensions against network size',
    render: () => <EffectiveDimensionView />,
    sweep: 'widths',
  },
  {
    id: 'width-spectra',
    title: 'The flatness spectrum at each width',
    render: () => <WidthSpectraView />,
    sweep: 'widths',
  },
  {
    id: 'hyper-sweep',
    title: 'ψ and γ across batch sizes and learning rates',
    render: () => <HyperSweepView />,
    sweep: 'hyper',
  },
  {
    id: 'architecture-comparison',
    title: 'Variance against flatness in deeper networks',
    render: () => <ArchitectureComparisonView />,
    sweep: 'architectures',
  },
];

export const FIGURE_IDS: readonly string[] = FIGURES.map((f) => f.id);

/**
 * Section 6's figures. They embed too, but stay out of FIGURE_IDS (the story's figures, which
 * show data at first visit): until a forgetting sweep is bundled they wait for the reader's.
 */
export const FORGETTING_FIGURES: readonly FigureEntry[] = [
  {
    id: 'forgetting-digits',
    title: 'The two tasks',
    render: () => <TaskDigitsView />,
    forgetting: true,
  },
  {
    id: 'forgetting-curves',
    title: 'Forgetting during task 2',
    render: () => <ForgettingCurvesView />,
    forgetting: true,
  },
  {
    id: 'forgetting-tradeoff',
    title: 'The ε₁–ε₂ trade-off over λ',
    render: () => <TradeoffView />,
    forgetting: true,
  },
  {
    id: 'forgetting-nc',
    title: 'How many modes to constrain',
    render: () => <ConstraintCountView />,
    forgetting: true,
  },
  {
    id: 'forgetting-displacement',
    title: 'Displacement along the task-1 modes',
    render: () => <ModeDisplacementView />,
    forgetting: true,
  },
];

/** Every figure `?embed=` can show. */
export const EMBEDDABLE: readonly FigureEntry[] = [...FIGURES, ...FORGETTING_FIGURES];

/**
 * One figure by id, inside its error boundary. It waits for its code inside its own Suspense,
 * unless `suspend` hands the wait to a boundary outside (the embed measures the drawn figure).
 */
export function Figure({ id, suspend = false }: { id: string; suspend?: boolean }) {
  const entry = EMBEDDABLE.find((f) => f.id === id);
  // New data for the figure (its sweep's runs, or the run's results): try drawing again.
  const results = useRun((s) => s.results);
  const sweepRuns = useUniversality((s) => (entry?.sweep ? s[entry.sweep].plan : null));
  const forgettingRuns = useForgetting((s) => (entry?.forgetting ? s.runs : null));
  if (!entry) return null;
  const resetKey = entry.sweep ? sweepRuns : entry.forgetting ? forgettingRuns : results;
  const figure = (
    <FigureBoundary id={id} resetKey={resetKey}>
      {entry.render()}
    </FigureBoundary>
  );
  return suspend ? figure : <Suspense fallback={null}>{figure}</Suspense>;
}
