import { useLayoutEffect, useRef } from 'react';

/**
 * A ref that always holds the latest value, updated after render: lets a long-lived subscription call
 * the current callback without resubscribing when the callback's identity changes.
 */
export function useLatest<T>(value: T): { readonly current: T } {
  const ref = useRef(value);
  useLayoutEffect(() => {
    ref.current = value;
  });
  return ref;
}
