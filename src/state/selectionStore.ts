/**
 * The PCA mode under the pointer (hover) or chosen (click), shared by every view so that the
 * same mode lights up everywhere.
 */
import { create } from 'zustand';

export interface SelectionState {
  hoverRank: number | null;
  /** Clicked modes, most recent last (profiles are drawn for these). */
  pinned: number[];
  setHover: (rank: number | null) => void;
  toggle: (rank: number) => void;
}

const MAX_PINNED = 4;

export const useSelection = create<SelectionState>((set) => ({
  hoverRank: null,
  pinned: [2, 10, 50],
  setHover: (rank) => set({ hoverRank: rank }),
  toggle: (rank) =>
    set((s) => ({
      pinned: s.pinned.includes(rank)
        ? s.pinned.filter((r) => r !== rank)
        : [...s.pinned, rank].slice(-MAX_PINNED),
    })),
}));

/** The mode every view should emphasise: the hovered one, else the last clicked. */
export function activeRank(s: SelectionState): number | null {
  return s.hoverRank ?? s.pinned[s.pinned.length - 1] ?? null;
}
