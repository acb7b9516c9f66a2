(class_declaration body: (class_body) @body) @scope
(interface_declaration body: (interface_body) @body) @scope
(enum_declaration body: (enum_body) @body) @scope
(record_declaration body: (class_body) @body) @scope
(method_declaration body: (block) @body) @scope
(constructor_declaration body: (constructor_body) @body) @scope
(lambda_expression body: (block) @body) @scope
