export function LifecycleBadge({ lifecycle }: { lifecycle: string }) {
  return <span className={`badge lifecycle-${lifecycle}`}>{lifecycle}</span>;
}
