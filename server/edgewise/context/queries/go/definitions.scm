; Definitions for the context engine's outline (see python/definitions.scm for the
; capture names). @container names the type a method belongs to (its receiver).

((method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: [(type_identifier) @container
             (pointer_type (type_identifier) @container)
             (generic_type type: (type_identifier) @container)
             (pointer_type (generic_type type: (type_identifier) @container))]))
  name: (field_identifier) @name
  body: (block) @body) @definition.method
  (#set! placeholder " {…}"))

((function_declaration
  name: (identifier) @name
  body: (block) @body) @definition.function
  (#set! placeholder " {…}"))

(type_declaration (type_spec name: (type_identifier) @name)) @definition.type
(type_declaration (type_alias name: (type_identifier) @name)) @definition.type

((const_declaration (const_spec name: (identifier) @name) @definition.constant)
  (#set! unless-inside "function_declaration method_declaration func_literal"))

((var_declaration (var_spec name: (identifier) @name) @definition.constant)
  (#set! unless-inside "function_declaration method_declaration func_literal"))
