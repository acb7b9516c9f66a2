; Imports: @import the statement, @source the module, and one binding per match:
;   @namespace  a local name bound to the whole module
;   @name       a name imported from the module (@alias: its local name)

;   @wildcard   every public name of the module
(import_statement name: (dotted_name) @source @namespace) @import

(import_statement
  name: (aliased_import name: (dotted_name) @source alias: (identifier) @namespace)) @import

(import_from_statement
  module_name: (_) @source
  name: (dotted_name) @name) @import

(import_from_statement
  module_name: (_) @source
  name: (aliased_import name: (dotted_name) @name alias: (identifier) @alias)) @import

(import_from_statement
  module_name: (_) @source
  (wildcard_import) @wildcard) @import
