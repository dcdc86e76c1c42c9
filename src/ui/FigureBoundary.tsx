/**
 * The error boundary around every figure: a figure that cannot draw some data says so instead of
 * blanking the page, and tries again when `resetKey` (its data) changes.
 */
import { Component, type ReactNode } from 'react';

export class FigureBoundary extends Component<
  { id: string; resetKey: unknown; children: ReactNode },
  { error: string | null; key: unknown }
> {
  state: { error: string | null; key: unknown } = { error: null, key: this.props.resetKey };
  static getDerivedStateFromError(e: unknown): Partial<{ error: string }> {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  static getDerivedStateFromProps(
    props: { resetKey: unknown },
    state: { error: string | null; key: unknown },
  ): Partial<{ error: string | null; key: unknown }> | null {
    // New data: try drawing again.
    return props.resetKey !== state.key ? { error: null, key: props.resetKey } : null;
  }
  render() {
    if (this.state.error !== null) {
      return (
        <div className="error-box" role="alert" data-figure-error={this.props.id}>
          The figure &ldquo;{this.props.id}&rdquo; could not be drawn from these results:{' '}
          {this.state.error}
        </div>
      );
    }
    return this.props.children;
  }
}
