; Definitions for the context engine's outline (see python/definitions.scm for the
; capture names). @container names the type an `impl` or `trait` block belongs to.

; `Type::new` by convention builds the type: shown with it
((impl_item
  type: [(type_identifier) @container
         (generic_type type: (type_identifier) @container)]
  body: (declaration_list
    (function_item name: (identifier) @name body: (block) @body) @definition.method))
  (#set! placeholder " {…}")
  (#set! constructor "true")
  (#eq? @name "new"))

((impl_item
  type: [(type_identifier) @container
         (generic_type type: (type_identifier) @container)
         (scoped_type_identifier name: (type_identifier) @container)]
  body: (declaration_list
    (function_item name: (identifier) @name body: (block) @body) @definition.method))
  (#set! placeholder " {…}"))

((trait_item
  name: (type_identifier) @container
  body: (declaration_list
    [(function_item name: (identifier) @name body: (block) @body)
     (function_signature_item name: (identifier) @name)] @definition.method))
  (#set! placeholder " {…}"))

((function_item name: (identifier) @name body: (block) @body) @definition.function
  (#set! placeholder " {…}"))

(function_signature_item name: (identifier) @name) @definition.function

((trait_item name: (type_identifier) @name body: (declaration_list) @body) @definition.class
  (#set! placeholder " {…}"))

([(struct_item name: (type_identifier) @name)
  (enum_item name: (type_identifier) @name)
  (union_item name: (type_identifier) @name)
  (type_item name: (type_identifier) @name)]) @definition.type

(([(const_item name: (identifier) @name)
  (static_item name: (identifier) @name)]) @definition.constant
  (#set! unless-inside "function_item closure_expression"))

(macro_definition name: (identifier) @name) @definition.function
