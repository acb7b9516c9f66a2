(function_item body: (block) @body) @scope
(impl_item body: (declaration_list) @body) @scope
(trait_item body: (declaration_list) @body) @scope
(mod_item body: (declaration_list) @body) @scope
(closure_expression body: (block) @body) @scope
