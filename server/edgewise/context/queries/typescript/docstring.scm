; Definitions that take a JSDoc comment placed on the line above them.
(function_declaration) @definition
(generator_function_declaration) @definition
(method_definition) @definition
(class_declaration) @definition
(lexical_declaration (variable_declarator value: [(arrow_function) (function_expression)])) @definition
