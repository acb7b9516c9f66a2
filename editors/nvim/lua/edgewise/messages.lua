--- window/showMessage from the server. Errors and warnings are shown as Neovim shows
--- them. An information (e.g. which model the server uses, said once when it starts) is
--- one line that fits the command line, so that it never stops the editor with a
--- hit-enter prompt; the whole text stays in `:checkhealth edgewise` and in the LSP log.
--- With a vim.notify of a notification plugin (nvim-notify, fidget, …) the whole text
--- goes to it.
local M = {}

local INFO, LOG = 3, 4 -- lsp.MessageType

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

--- The handler. `store` keeps every information message of the session (newest last).
---@param store string[]
---@return lsp.Handler
function M.handler(store)
  return function(err, params, ctx)
    local kind = params and params.type
    if kind ~= INFO and kind ~= LOG then
      return vim.lsp.handlers['window/showMessage'](err, params, ctx)
    end
    local message = tostring(params.message or '')
    table.insert(store, message)
    if builtin_notify() then
      -- v:echospace: the room left on the last line (after 'showcmd' and 'ruler')
      local room = math.max(vim.v.echospace, 20)
      vim.api.nvim_echo({ { M.one_line(message, room) } }, true, {})
    else
      vim.notify(message, vim.log.levels.INFO, { title = 'edgewise' })
    end
    return params
  end
end

return M
