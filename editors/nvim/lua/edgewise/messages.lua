--- window/showMessage from the server. Neovim's own handler echoes each message with a
--- newline at its end, which makes every one of them a hit-enter prompt. Here:
---
--- - an information (e.g. which model the server uses, said once when it starts) is one
---   line cut to fit the command line (never a prompt);
--- - a warning or an error goes to vim.notify as it is (a prompt only when it is longer
---   than the screen is wide).
---
--- With a vim.notify of a notification plugin (nvim-notify, fidget, …) every message goes
--- to it whole. All of them are kept for `:checkhealth edgewise` (and the server writes
--- them to the LSP log too).
local M = {}

local TYPES = { [1] = 'error', [2] = 'warning', [3] = 'info', [4] = 'log' } -- lsp.MessageType
local LEVELS = {
  error = vim.log.levels.ERROR,
  warning = vim.log.levels.WARN,
  info = vim.log.levels.INFO,
  log = vim.log.levels.INFO,
}

---@class edgewise.Message
---@field kind 'error'|'warning'|'info'|'log'
---@field text string
---@field at integer vim.uv.now() when it arrived

--- True when vim.notify is Neovim's own (which echoes to the command line).
---@return boolean
local function builtin_notify()
  local info = debug.getinfo(vim.notify, 'S')
  return info ~= nil and info.source:find('vim/_editor', 1, true) ~= nil
end

--- `text` on one line of at most `width` display cells (cut with … when longer).
---@param text string
---@param width integer
---@return string
function M.one_line(text, width)
  local line = vim.trim((text:gsub('%s*\n%s*', ' ')))
  if vim.fn.strdisplaywidth(line) <= width then
    return line
  end
  local cut = vim.fn.strcharpart(line, 0, math.max(width - 1, 1))
  while vim.fn.strdisplaywidth(cut) > width - 1 and #cut > 0 do
    cut = vim.fn.strcharpart(cut, 0, vim.fn.strchars(cut) - 1)
  end
  return cut .. '…'
end

--- True when the server said exactly `text` within the last `ms` milliseconds (so that
--- the plugin does not say it a second time).
---@param store edgewise.Message[]
---@param text string
---@param ms? integer default 5000
---@return boolean
function M.just_said(store, text, ms)
  local since = vim.uv.now() - (ms or 5000)
  for i = #store, 1, -1 do
    local message = store[i]
    if message.at < since then
      return false
    end
    if message.text == text then
      return true
    end
  end
  return false
end

--- The handler. `store` keeps every message of the session (newest last).
---@param store edgewise.Message[]
---@return lsp.Handler
function M.handler(store)
  return function(_, params, _)
    if type(params) ~= 'table' then
      return vim.NIL
    end
    local kind = TYPES[params.type] or 'info'
    local text = tostring(params.message or '')
    table.insert(store, { kind = kind, text = text, at = vim.uv.now() })
    local builtin = builtin_notify()
    if builtin and (kind == 'info' or kind == 'log') then
      -- v:echospace: the room left on the last line (after 'showcmd' and 'ruler')
      vim.api.nvim_echo({ { M.one_line(text, math.max(vim.v.echospace, 20)) } }, true, {})
    else
      vim.notify(text, LEVELS[kind], { title = 'edgewise' })
    end
    return params
  end
end

return M
