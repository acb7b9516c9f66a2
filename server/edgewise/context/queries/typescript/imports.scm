; inherits: javascript
; plus TypeScript's `import x = require("...")`

(import_statement
  (import_require_clause (identifier) @namespace source: (string (string_fragment) @source))) @import
