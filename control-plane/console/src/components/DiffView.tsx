// A unified diff with added and removed lines marked by their +/- as well as colour.
import { ScrollBox } from './ScrollBox';

export function DiffView({ diff, label }: { diff: string; label: string }) {
  const lines = diff.replace(/\n$/, '').split('\n');
  return (
    <ScrollBox label={label}>
      <pre className="diff">
        <code>
          {lines.map((line, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: lines of a fixed text, never reordered
            <span key={i} className={lineClass(line)}>
              {line}
              {'\n'}
            </span>
          ))}
        </code>
      </pre>
    </ScrollBox>
  );
}

function lineClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('===')) return 'diff-file';
  if (line.startsWith('@@')) return 'diff-hunk';
  if (line.startsWith('+')) return 'diff-added';
  if (line.startsWith('-')) return 'diff-removed';
  return 'diff-context';
}
