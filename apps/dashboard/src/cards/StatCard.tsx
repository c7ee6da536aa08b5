/** One figure with its label; `testId` is what the Playwright suite reads. */
export function StatCard({ label, value, detail, testId }: { label: string; value: string; detail?: string; testId: string }) {
  return (
    <div className="card stat">
      <div className="stat-label" id={`${testId}-label`}>
        {label}
      </div>
      <div className="stat-value" data-testid={testId} aria-labelledby={`${testId}-label`}>
        {value}
      </div>
      {detail && <div className="stat-detail muted">{detail}</div>}
    </div>
  );
}
