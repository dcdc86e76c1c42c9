/** Catastrophic forgetting: LDC versus EWC (SCIENCE.md, Fig. 4). */
export * from './config';
export * from './experiment';
export * from './fisher';
export * from './penalties';
export * from './scoring';
export * from './selection';
export * from './tasks';
export * from './w2Trainer';
export * from './summary';
