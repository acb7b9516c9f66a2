; Imports (see python/imports.scm for the capture names). Go imports packages by path.
(import_spec
  name: (package_identifier)? @namespace
  path: (interpreted_string_literal (interpreted_string_literal_content) @source)) @import
