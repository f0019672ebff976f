// Health in words and a symbol, with colour only as a third cue.
const LABELS: Record<string, { symbol: string; text: string }> = {
  up: { symbol: '✓', text: 'Up' },
  down: { symbol: '✗', text: 'Down' },
  unknown: { symbol: '?', text: 'Unknown' },
};

export function HealthBadge({ health }: { health: string }) {
  const known = LABELS[health] ?? LABELS.unknown!;
  return (
    <span className={`badge health-${health in LABELS ? health : 'unknown'}`} data-health={health}>
      <span aria-hidden="true">{known.symbol} </span>
      {known.text}
    </span>
  );
}
