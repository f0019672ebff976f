// Wide content (tables, diffs, SQL) scrolls inside its own box, focusable so the keyboard can scroll it, never the page.
import type { ReactNode } from 'react';

export function ScrollBox({ label, className, children }: { label: string; className?: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to be scrolled by keyboard
    <section className={`scroll-box${className ? ` ${className}` : ''}`} aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}
