; Definitions for the context engine's outline (see python/definitions.scm for the
; capture names). @container names the class of a method defined out of line
; (`int Item::count() const {…}`); methods inside a class body nest in it.

((function_definition
  declarator: [(function_declarator declarator: (qualified_identifier scope: (_) @container name: (_) @name))
               (pointer_declarator declarator: (function_declarator declarator: (qualified_identifier scope: (_) @container name: (_) @name)))
               (reference_declarator (function_declarator declarator: (qualified_identifier scope: (_) @container name: (_) @name)))]
  body: (compound_statement) @body) @definition.method
  (#set! placeholder ";"))

((template_declaration
  (function_definition
    declarator: [(function_declarator declarator: [(identifier) (field_identifier) (operator_name) (destructor_name)] @name)
                 (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier)] @name))
                 (reference_declarator (function_declarator declarator: [(identifier) (field_identifier)] @name))]
    body: (compound_statement) @body)) @definition.function
  (#set! placeholder ";"))

((function_definition
  declarator: [(function_declarator declarator: [(identifier) (field_identifier) (operator_name) (destructor_name)] @name)
               (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier)] @name))
               (reference_declarator (function_declarator declarator: [(identifier) (field_identifier)] @name))]
  body: (compound_statement) @body) @definition.function
  (#set! placeholder ";"))

(([(declaration
    declarator: [(function_declarator declarator: [(identifier) (field_identifier) (destructor_name)] @name)
                 (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier)] @name))
                 (reference_declarator (function_declarator declarator: [(identifier) (field_identifier)] @name))])
  (field_declaration
    declarator: [(function_declarator declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
                 (pointer_declarator declarator: (function_declarator declarator: [(identifier) (field_identifier)] @name))
                 (reference_declarator (function_declarator declarator: [(identifier) (field_identifier)] @name))])]) @definition.function
  (#set! unless-inside "function_definition lambda_expression"))

((template_declaration
  [(class_specifier name: (type_identifier) @name (base_class_clause)? @bases body: (field_declaration_list) @body)
   (struct_specifier name: (type_identifier) @name (base_class_clause)? @bases body: (field_declaration_list) @body)]) @definition.class
  (#set! placeholder " {…};"))

(([(class_specifier name: (type_identifier) @name (base_class_clause)? @bases body: (field_declaration_list) @body)
  (struct_specifier name: (type_identifier) @name (base_class_clause)? @bases body: (field_declaration_list) @body)]) @definition.class
  (#set! placeholder " {…};")
  (#set! unless-inside "function_definition lambda_expression"))

(([(enum_specifier name: (type_identifier) @name body: (enumerator_list))
  (union_specifier name: (type_identifier) @name body: (field_declaration_list))
  (type_definition declarator: (type_identifier) @name)
  (alias_declaration name: (type_identifier) @name)]) @definition.type
  (#set! unless-inside "function_definition lambda_expression"))

(preproc_def name: (identifier) @name) @definition.constant
(preproc_function_def name: (identifier) @name) @definition.function

(field_declaration declarator: [(field_identifier) @name
                                (pointer_declarator declarator: (field_identifier) @name)
                                (reference_declarator (field_identifier) @name)
                                (array_declarator declarator: (field_identifier) @name)]) @definition.field

((declaration
  declarator: [(init_declarator declarator: (identifier) @name)
               (identifier) @name]) @definition.constant
  (#set! unless-inside "function_definition lambda_expression"))
