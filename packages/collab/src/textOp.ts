import { type TextOp, type as textType } from 'ot-text-unicode';

/**
 * `type.normalize` without its side effect: it merges adjacent deletes by mutating the caller's component
 * objects, so it runs on a copy here.
 */
export function normalizeOp(op: TextOp): TextOp {
  return textType.normalize(
    op.map((component) => (typeof component === 'object' ? { d: component.d } : component)),
  );
}
