; Definitions for the context engine's outline (see python/definitions.scm for the
; capture names). Function bodies are shown as prototypes (`;`).

((function_definition
  declarator: [(function_declarator declarator: (identifier) @name)
               (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
               (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name)))]
  body: (compound_statement) @body) @definition.function
  (#set! placeholder ";"))

((declaration
  declarator: [(function_declarator declarator: (identifier) @name)
               (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))]) @definition.function
  (#set! unless-inside "function_definition"))

(([(struct_specifier name: (type_identifier) @name body: (field_declaration_list))
  (union_specifier name: (type_identifier) @name body: (field_declaration_list))
  (enum_specifier name: (type_identifier) @name body: (enumerator_list))]) @definition.type
  (#set! unless-inside "function_definition"))

((type_definition declarator: [(type_identifier) @name
                              (pointer_declarator declarator: (type_identifier) @name)
                              (function_declarator declarator: (parenthesized_declarator (pointer_declarator declarator: (type_identifier) @name)))]) @definition.type
  (#set! unless-inside "function_definition"))

(preproc_def name: (identifier) @name) @definition.constant
(preproc_function_def name: (identifier) @name) @definition.function

((declaration
  declarator: [(init_declarator declarator: (identifier) @name)
               (identifier) @name
               (array_declarator declarator: (identifier) @name)
               (init_declarator declarator: (array_declarator declarator: (identifier) @name) value: (_) @body)]) @definition.constant
  (#set! placeholder " = {…};")
  (#set! unless-inside "function_definition"))
