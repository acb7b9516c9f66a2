; Imports (see python/imports.scm for the capture names).
(use_declaration argument: (scoped_identifier path: (_) @source name: (identifier) @name)) @import
(use_declaration argument: (identifier) @name @source) @import
(use_declaration
  argument: (use_as_clause path: (scoped_identifier path: (_) @source name: (identifier) @name)
                           alias: (identifier) @alias)) @import
(use_declaration
  argument: (scoped_use_list path: (_) @source
                             list: (use_list [(identifier) @name
                                              (use_as_clause path: (identifier) @name alias: (identifier) @alias)]))) @import
(use_declaration argument: (use_wildcard (_) @source) @wildcard) @import
(mod_item name: (identifier) @namespace @source !body) @import
