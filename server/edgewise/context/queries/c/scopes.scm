(function_definition body: (compound_statement) @body) @scope
(struct_specifier body: (field_declaration_list) @body) @scope
