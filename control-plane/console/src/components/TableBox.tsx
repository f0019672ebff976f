import type { ReactNode } from 'react';
import { ScrollBox } from './ScrollBox';

/** A table in its own scrolling box, named for screen readers. */
export function TableBox({ label, children }: { label: string; children: ReactNode }) {
  return (
    <ScrollBox label={label} className="table-box">
      <table>{children}</table>
    </ScrollBox>
  );
}
