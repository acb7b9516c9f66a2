; inherits: typescript
; TSX is TypeScript with JSX: the same patterns apply.
