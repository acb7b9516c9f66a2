-- edgewise for Neovim 0.11's built-in LSP client, with no plugin code:
--
--   vim.lsp.enable('edgewise')
--
-- (this directory must be on 'runtimepath'). The server is the `.venv/bin/edgewise` of
-- the edgewise checkout this file is in, else `edgewise` on PATH; set `cmd` to choose
-- another. Server settings use the shape of
-- schemas/config.schema.json, e.g.
--
--   vim.lsp.config('edgewise', { settings = { model = '/path/to/model.gguf' } })
--
-- They are sent both as initializationOptions (so that the first model the server loads
-- is the configured one) and through workspace/didChangeConfiguration (Neovim does that
-- by itself). Ghost text, :EdgewiseCost and friends need require('edgewise').setup().

-- (a copy of this file without the plugin's lua/ folder falls back to PATH)
local found, server = pcall(require, 'edgewise.server')
local located = found and server.locate() or nil

---@type vim.lsp.Config
return {
  cmd = located and located.cmd or { 'edgewise', 'serve' },
  filetypes = {
    'python',
    'javascript',
    'javascriptreact',
    'typescript',
    'typescriptreact',
    'go',
    'rust',
    'java',
    'c',
    'cpp',
  },
  root_markers = { 'pyproject.toml', 'package.json', 'go.mod', 'Cargo.toml', 'pom.xml', '.git' },
  ---@type table<string, any> settings in the shape of schemas/config.schema.json
  settings = {},
  ---@param params lsp.InitializeParams
  ---@param config vim.lsp.ClientConfig
  before_init = function(params, config)
    local options = vim.tbl_deep_extend('force', {}, config.settings or {}, config.init_options or {})
    -- an empty Lua table would be sent as a JSON array: send an object
    params.initializationOptions = next(options) and options or vim.empty_dict()
  end,
}
