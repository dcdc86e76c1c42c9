/** The figure views, one per figure of the paper. Importing this also loads their styles. */
import './views.css';

export { TrainingCurvesView } from './TrainingCurvesView';
export { SpectrumView } from './SpectrumView';
export { CumulativeVarianceView } from './CumulativeVarianceView';
export { TrajectoryView } from './TrajectoryView';
export { LossProfileView } from './LossProfileView';
export { FlatnessRankView } from './FlatnessRankView';
export { VarianceFlatnessView } from './VarianceFlatnessView';
export { NoiseStrengthView } from './NoiseStrengthView';
export { VelocityCorrelationView } from './VelocityCorrelationView';
export { MinibatchEnsembleView } from './MinibatchEnsembleView';
export { ActiveTemperatureView } from './ActiveTemperatureView';
export { TemperatureFlatnessView } from './TemperatureFlatnessView';
export { TemperatureTrajectoryView } from './TemperatureTrajectoryView';
export { ForgettingCurvesView } from './ForgettingCurvesView';
export { ModeDisplacementView } from './ModeDisplacementView';
export { TradeoffView } from './TradeoffView';
export { ConstraintCountView } from './ConstraintCountView';
export { TaskDigitsView } from './TaskDigitsView';
export { OptimizerComparisonView } from './OptimizerComparisonView';
export { EffectiveDimensionView } from './EffectiveDimensionView';
export { HyperSweepView } from './HyperSweepView';
export { ArchitectureComparisonView } from './ArchitectureComparisonView';
export { WidthSpectraView } from './WidthSpectraView';
export { EinsteinView } from './EinsteinView';
