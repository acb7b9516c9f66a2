; inherits: javascript
; JavaScript's docstring rules hold for TypeScript as they are.
