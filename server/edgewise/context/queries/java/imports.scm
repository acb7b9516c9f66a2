; Imports (see python/imports.scm for the capture names).
(import_declaration (scoped_identifier scope: (_) @source name: (identifier) @name)) @import
(import_declaration (scoped_identifier) @source (asterisk) @wildcard) @import
