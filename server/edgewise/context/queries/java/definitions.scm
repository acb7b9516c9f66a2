; Definitions for the context engine's outline (see python/definitions.scm for the
; capture names). Members of a class become its methods and fields.

(([(class_declaration
    name: (identifier) @name
    superclass: (superclass)? @bases
    interfaces: (super_interfaces)? @bases
    body: (class_body) @body)
  (interface_declaration name: (identifier) @name (extends_interfaces)? @bases body: (interface_body) @body)
  (record_declaration name: (identifier) @name body: (class_body) @body)
  (annotation_type_declaration name: (identifier) @name body: (annotation_type_body) @body)]) @definition.class
  (#set! placeholder " {…}"))

(enum_declaration name: (identifier) @name) @definition.type

((method_declaration name: (identifier) @name body: (block) @body) @definition.method
  (#set! placeholder " {…}"))

(method_declaration name: (identifier) @name !body) @definition.method

((constructor_declaration name: (identifier) @name body: (constructor_body) @body) @definition.method
  (#set! placeholder " {…}"))

((field_declaration declarator: (variable_declarator name: (identifier) @name value: (_)? @body)) @definition.field
  (#set! placeholder " …;"))

(constant_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.constant
