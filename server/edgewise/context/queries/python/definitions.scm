; Definitions for the context engine's outline.
;   @definition.<kind>  the whole definition (function, class, constant, ...)
;   @name               its name;  @body  the part stripped from its signature
;   @doc                a docstring inside the body (its first line is kept)
; A function nested in a class becomes a method, one nested in a function is local and
; left out; `unless-inside` lists the node types that make any other match local.
; When two patterns capture the same name, the wider definition node wins (a decorator
; wrapper over the function it wraps), then the earlier pattern.
; Settings (#set!) come before #eq? in a pattern: the other order crashes py-tree-sitter
; 0.25 when the query is freed.

; `__init__` is what a call of its class runs: it is shown with the class
((function_definition
  name: (identifier) @name
  body: (block . (expression_statement (string) @doc)?) @body) @definition.function
  (#set! placeholder " ...")
  (#set! constructor "true")
  (#eq? @name "__init__"))

((decorated_definition
  definition: (function_definition
    name: (identifier) @name
    body: (block . (expression_statement (string) @doc)?) @body)) @definition.function
  (#set! placeholder " ..."))

((function_definition
  name: (identifier) @name
  body: (block . (expression_statement (string) @doc)?) @body) @definition.function
  (#set! placeholder " ..."))

((decorated_definition
  definition: (class_definition
    name: (identifier) @name
    superclasses: (argument_list)? @bases
    body: (block . (expression_statement (string) @doc)?) @body)) @definition.class
  (#set! placeholder " ..."))

((class_definition
  name: (identifier) @name
  superclasses: (argument_list)? @bases
  body: (block . (expression_statement (string) @doc)?) @body) @definition.class
  (#set! placeholder " ..."))

; module constants (and class attributes, which become fields of their class)

((expression_statement
  (assignment left: (identifier) @name right: (_) @body)) @definition.constant
  (#set! placeholder " ...")
  (#set! unless-inside "function_definition lambda"))

((expression_statement
  (assignment left: (identifier) @name type: (_) !right)) @definition.constant
  (#set! unless-inside "function_definition lambda"))
