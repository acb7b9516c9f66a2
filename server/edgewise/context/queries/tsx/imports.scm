; Imports and exports (see python/imports.scm for the capture names):
;   @default   a local name bound to the module's default export
;   @reexport  an `export … from` statement (its names belong to this module's exports)

;   @export.default  the name this module exports as default

(import_statement
  (import_clause (identifier) @default)
  source: (string (string_fragment) @source)) @import

(import_statement
  (import_clause (namespace_import (identifier) @namespace))
  source: (string (string_fragment) @source)) @import

(import_statement
  (import_clause
    (named_imports (import_specifier name: (_) @name alias: (_)? @alias)))
  source: (string (string_fragment) @source)) @import

(lexical_declaration
  (variable_declarator
    name: (identifier) @namespace
    value: (call_expression
      function: (identifier) @_require
      arguments: (arguments . (string (string_fragment) @source)))
    (#eq? @_require "require"))) @import

(lexical_declaration
  (variable_declarator
    name: (object_pattern
      [(shorthand_property_identifier_pattern) @name
       (pair_pattern key: (_) @name value: (identifier) @alias)])
    value: (call_expression
      function: (identifier) @_require
      arguments: (arguments . (string (string_fragment) @source)))
    (#eq? @_require "require"))) @import

(export_statement
  (export_clause (export_specifier name: (_) @name alias: (_)? @alias))
  source: (string (string_fragment) @source)) @reexport

(export_statement
  "*"
  source: (string (string_fragment) @source)) @reexport @wildcard

(export_statement "default" value: (identifier) @export.default)

(export_statement "default" declaration: (_ name: (_) @export.default))

(import_statement
  (import_require_clause (identifier) @namespace source: (string (string_fragment) @source))) @import
