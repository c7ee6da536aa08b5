/** One figure with its label, as a term and its value; `testId` is what the Playwright suite reads. */
export function StatCard({
  label,
  value,
  detail,
  testId,
}: {
  label: string;
  value: string;
  detail?: string;
  testId: string;
}) {
  return (
    <dl className="card stat">
      <dt className="stat-label">{label}</dt>
      <dd className="stat-value" data-testid={testId}>
        {value}
      </dd>
      {detail && <dd className="stat-detail muted">{detail}</dd>}
    </dl>
  );
}
