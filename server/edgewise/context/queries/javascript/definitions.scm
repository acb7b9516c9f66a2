; Definitions for the context engine's outline (see python/definitions.scm for the
; capture names). Functions nested in functions are local and left out.

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

((class_declaration
  name: (_) @name
  (class_heritage)? @bases
  body: (class_body) @body) @definition.class
  (#set! placeholder " {…}"))

(([(lexical_declaration
    (variable_declarator
      name: (identifier) @name
      value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)]))
  (variable_declaration
    (variable_declarator
      name: (identifier) @name
      value: [(arrow_function body: (_) @body) (function_expression body: (_) @body)]))]) @definition.function
  (#set! placeholder " {…}")
  (#set! unless-inside "function_expression arrow_function method_definition function_declaration generator_function_declaration class_body"))

(([(lexical_declaration (variable_declarator name: (identifier) @name value: (_) @body))
  (variable_declaration (variable_declarator name: (identifier) @name value: (_) @body))]) @definition.constant
  (#set! placeholder " …")
  (#set! unless-inside "function_expression arrow_function method_definition function_declaration generator_function_declaration class_body"))

(field_definition property: (_) @name) @definition.field
