; Definitions for the context engine's outline (see python/definitions.scm for the
; capture names). Types without @body are shown whole (long ones are cut).

; what `new` of its class runs: shown with the class
((method_definition
  name: (_) @name
  body: (statement_block) @body) @definition.method
  (#set! placeholder " {…}")
  (#set! constructor "true")
  (#eq? @name "constructor"))

((method_definition
  name: (_) @name
  body: (statement_block) @body) @definition.method
  (#set! placeholder " {…}"))

[(method_signature name: (_) @name)
 (abstract_method_signature name: (_) @name)] @definition.method

((function_declaration
  name: (identifier) @name
  body: (statement_block) @body) @definition.function
  (#set! placeholder " {…}")
  (#set! unless-inside "function_expression arrow_function method_definition function_declaration generator_function_declaration"))

((generator_function_declaration
  name: (identifier) @name
  body: (statement_block) @body) @definition.function
  (#set! placeholder " {…}")
  (#set! unless-inside "function_expression arrow_function method_definition function_declaration generator_function_declaration"))

((function_signature name: (identifier) @name) @definition.function
  (#set! unless-inside "function_expression arrow_function method_definition function_declaration generator_function_declaration"))

(([(class_declaration name: (_) @name (class_heritage)? @bases body: (class_body) @body)
  (abstract_class_declaration name: (_) @name (class_heritage)? @bases body: (class_body) @body)
  (interface_declaration name: (_) @name (extends_type_clause)? @bases body: (interface_body) @body)]) @definition.class
  (#set! placeholder " {…}"))

([(type_alias_declaration name: (_) @name)
  (enum_declaration name: (_) @name)]) @definition.type

(([(lexical_declaration
    (variable_declarator
      name: (identifier) @name
      value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)]))
  (variable_declaration
    (variable_declarator
      name: (identifier) @name
      value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)]))]) @definition.function
  (#set! placeholder " {…}")
  (#set! unless-inside "function_expression arrow_function method_definition function_declaration generator_function_declaration"))

(([(lexical_declaration (variable_declarator name: (identifier) @name value: (_) @body))
  (variable_declaration (variable_declarator name: (identifier) @name value: (_) @body))]) @definition.constant
  (#set! placeholder " …")
  (#set! unless-inside "function_expression arrow_function method_definition function_declaration generator_function_declaration"))

(([(lexical_declaration (variable_declarator name: (identifier) @name type: (_) !value))
  (variable_declaration (variable_declarator name: (identifier) @name type: (_) !value))]) @definition.constant
  (#set! unless-inside "function_expression arrow_function method_definition function_declaration generator_function_declaration"))

((public_field_definition name: (_) @name value: (_)? @body) @definition.field
  (#set! placeholder " …"))

(property_signature name: (_) @name) @definition.field
