--- Finding the `edgewise` server, as the VS Code extension does: the `cmd` the user set,
--- else the `.venv` of the edgewise checkout this plugin lives in (editors/nvim is inside
--- it; `scripts/run` or `scripts/setup` make `.venv/bin/edgewise`), else `edgewise` on PATH.
local M = {}

---@class edgewise.Located
---@field cmd string[] the command that starts the server (stdio)
---@field source 'setting'|'checkout'|'PATH' where it was found

--- The root of the edgewise checkout that holds this file (…/editors/nvim/lua/edgewise/).
---@return string
function M.checkout()
  local source = debug.getinfo(1, 'S').source:gsub('^@', '')
  local file = vim.fs.normalize(vim.fn.fnamemodify(source, ':p'))
  -- server.lua → edgewise → lua → nvim → editors → checkout
  return vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(file)))))
end

--- The checkout's own server (`.venv/bin/edgewise`), or nil when it has not been set up.
---@param root? string default: the checkout of this plugin
---@return string?
function M.checkout_server(root)
  root = root or M.checkout()
  local names = vim.fn.has('win32') == 1 and { 'Scripts/edgewise.exe', 'Scripts/edgewise' } or { 'bin/edgewise' }
  for _, name in ipairs(names) do
    local path = vim.fs.joinpath(root, '.venv', name)
    if vim.fn.executable(path) == 1 then
      return path
    end
  end
  return nil
end

--- The command that starts the server: `cmd` when given, else the checkout's `.venv`,
--- else `edgewise` on PATH. When there is none: nil and what to tell the user (one line).
---@param cmd? string[] the `cmd` option of setup() (or of vim.lsp.config)
---@return edgewise.Located?, string?
function M.locate(cmd)
  if cmd then
    if vim.fn.executable(cmd[1]) ~= 1 then
      return nil, ('edgewise: server not found: `%s` (the `cmd` option of setup()) is not an executable'):format(cmd[1])
    end
    return { cmd = cmd, source = 'setting' }
  end
  local own = M.checkout_server()
  if own then
    return { cmd = { own, 'serve' }, source = 'checkout' }
  end
  local on_path = vim.fn.exepath('edgewise')
  if on_path ~= '' then
    return { cmd = { on_path, 'serve' }, source = 'PATH' }
  end
  return nil, M.not_found_message()
end

--- What to tell the user when no server was found (one line).
---@return string
function M.not_found_message()
  local root = vim.fn.fnamemodify(M.checkout(), ':~')
  return ('edgewise: server not found (not in %s/.venv, not on PATH): run %s/scripts/setup, or set `cmd` in setup()'):format(
    root,
    root
  )
end

return M
