; Includes (see python/imports.scm for the capture names): every name of the header.
(preproc_include path: (string_literal (string_content) @source)) @import @wildcard
(preproc_include path: (system_lib_string) @source) @import @wildcard
