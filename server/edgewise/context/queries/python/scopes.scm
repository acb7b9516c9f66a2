; Scopes whose headers frame the code at the cursor.
(function_definition body: (block) @body) @scope
(class_definition body: (block) @body) @scope
