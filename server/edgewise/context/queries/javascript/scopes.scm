(function_declaration body: (statement_block) @body) @scope
(generator_function_declaration body: (statement_block) @body) @scope
(function_expression body: (statement_block) @body) @scope
(arrow_function body: (statement_block) @body) @scope
(method_definition body: (statement_block) @body) @scope
(class_declaration body: (class_body) @body) @scope
(class body: (class_body) @body) @scope
