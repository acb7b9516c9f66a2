; Definitions that can carry a docstring: @definition, its @body, and @doc when present.
(function_definition
  body: (block . (expression_statement (string) @doc)?) @body) @definition
(class_definition
  body: (block . (expression_statement (string) @doc)?) @body) @definition
