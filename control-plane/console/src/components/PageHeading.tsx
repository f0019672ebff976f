// Each page's h1: names the tab and takes focus on arrival, so a screen reader announces the new page.
import { useEffect, useRef } from 'react';

export function PageHeading({ children }: { children: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${children} · FHIR mesh console`;
    heading.current?.focus();
  }, [children]);
  return (
    <h1 ref={heading} tabIndex={-1}>
      {children}
    </h1>
  );
}
