--- edgewise for Neovim 0.11+: ghost-text completions, model code actions and the
--- cost/confidence report of each, on top of the built-in LSP client.
---
---   require('edgewise').setup({ settings = { model = '/path/to/model.gguf' } })
---
--- Code actions come through vim.lsp.buf.code_action(); report diagnostics arrive as
--- native vim.diagnostic entries with source `edgewise` (report in user_data.lsp.data).
local config = require('edgewise.config')
local Ghost = require('edgewise.ghost').Ghost

local M = {}

M.NAME = 'edgewise'

---@class edgewise.Status the last edgewise/status notification of a client
---@field state string idle|busy
---@field last? {id: string, summary: string}
---@field session table session totals
---@field hidden integer completions hidden by minConfidence

---@class edgewise.State
---@field options edgewise.Options
---@field ghosts table<integer, edgewise.Ghost> by buffer
---@field status table<integer, edgewise.Status> by client id
---@field augroup integer

---@type edgewise.State?
M.state = nil

--- Empty tables become JSON objects ({}), not arrays ([]), when sent to the server.
---@param value any
---@return any
local function as_json_object(value)
  if type(value) ~= 'table' then
    return value
  end
  if next(value) == nil then
    return vim.empty_dict()
  end
  local out = {}
  for k, v in pairs(value) do
    out[k] = as_json_object(v)
  end
  return out
end

--- The edgewise client attached to `bufnr` (default: current buffer), or any edgewise
--- client when none is attached to it.
---@param bufnr? integer
---@return vim.lsp.Client?
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local attached = vim.lsp.get_clients({ bufnr = bufnr, name = M.NAME })[1]
  return attached or vim.lsp.get_clients({ name = M.NAME })[1]
end

--- The ghost text controller of `bufnr` (default: current buffer), if attached.
---@param bufnr? integer
---@return edgewise.Ghost?
function M.ghost(bufnr)
  local state = M.state
  return state and state.ghosts[bufnr or vim.api.nvim_get_current_buf()] or nil
end

--- Accept the whole ghost text. False when there is none.
---@return boolean
function M.accept()
  local ghost = M.ghost()
  return ghost ~= nil and ghost:accept()
end

--- Accept the next word of the ghost text. False when there is none.
---@return boolean
function M.accept_word()
  local ghost = M.ghost()
  return ghost ~= nil and ghost:accept_word()
end

--- Hide the ghost text (and cancel the request in flight).
function M.dismiss()
  local ghost = M.ghost()
  if ghost then
    ghost:dismiss()
  end
end

--- Ask for a suggestion now (the server answers after its `debounceMs`).
function M.suggest()
  local ghost = M.ghost()
  if ghost then
    ghost:refresh()
  end
end

--- The last edgewise/status of the current buffer's server, as one short line (for a
--- statusline); '' when there is none.
---@return string
function M.statusline()
  local client = M.client()
  local status = client and M.state and M.state.status[client.id]
  if not status then
    return ''
  end
  local session = status.session or {}
  local cloud = tonumber(session.cloud_equivalent) or 0
  local currency = type(session.currency) == 'string' and session.currency or ''
  return ('edgewise %s · %d req · %.4f %s'):format(
    status.state or '?',
    tonumber(session.requests) or 0,
    cloud,
    currency
  )
end

---@param lhs string|false
---@param bufnr integer
---@param fn_name string
---@param desc string
local function map(lhs, bufnr, fn_name, desc)
  if not lhs then
    return
  end
  vim.keymap.set('i', lhs, function()
    local ghost = M.ghost(bufnr)
    if ghost and ghost:visible() then
      return ('<Cmd>lua require("edgewise").%s()<CR>'):format(fn_name)
    end
    return lhs -- no ghost text: the key does what it did before (noremap)
  end, { buffer = bufnr, expr = true, desc = desc })
end

---@param bufnr integer
---@param client vim.lsp.Client
local function attach(bufnr, client)
  local state = assert(M.state)
  local old = state.ghosts[bufnr]
  if old then
    old:detach()
  end
  state.ghosts[bufnr] = Ghost.new(bufnr, client.id, state.options.ghost)
  local keys = state.options.keymaps
  map(keys.accept, bufnr, 'accept', 'edgewise: accept the suggestion')
  map(keys.accept_word, bufnr, 'accept_word', 'edgewise: accept the next word')
  map(keys.dismiss, bufnr, 'dismiss', 'edgewise: dismiss the suggestion')
end

---@param bufnr integer
local function detach(bufnr)
  local state = M.state
  local ghost = state and state.ghosts[bufnr]
  if state and ghost then
    ghost:detach()
    state.ghosts[bufnr] = nil
  end
end

--- Configure and enable edgewise. Raises an error naming the wrong key on bad options;
--- server settings go to the server as they are (it reports each wrong key).
---@param opts? edgewise.Options|table
function M.setup(opts)
  local options = config.resolve(opts)
  if vim.fn.has('nvim-0.11') ~= 1 then
    error('edgewise needs Neovim 0.11 or newer (vim.lsp.config / vim.lsp.enable)', 0)
  end
  if M.state then
    for bufnr in pairs(M.state.ghosts) do
      detach(bufnr)
    end
  end
  local state = {
    options = options,
    ghosts = {},
    status = {},
    augroup = vim.api.nvim_create_augroup('edgewise', { clear = true }),
  }
  M.state = state

  vim.api.nvim_set_hl(0, 'EdgewiseGhost', { link = 'Comment', default = true })

  ---@type vim.lsp.Config
  local lsp = {
    settings = as_json_object(options.settings),
    capabilities = {
      -- Neovim 0.11 has no inline completion of its own: this plugin renders it
      textDocument = { inlineCompletion = { dynamicRegistration = false } },
    },
    handlers = {
      ['edgewise/status'] = function(_, params, ctx)
        if M.state and ctx.client_id then
          M.state.status[ctx.client_id] = params
        end
      end,
    },
  }
  lsp.cmd = options.cmd
  lsp.filetypes = options.filetypes
  lsp.root_markers = options.root_markers
  vim.lsp.config(M.NAME, lsp)
  local resolved = vim.lsp.config[M.NAME]
  if not resolved or not resolved.cmd then
    error(
      "edgewise.setup: lsp/edgewise.lua is not on 'runtimepath' (add the editors/nvim "
        .. 'folder of edgewise to it) and no cmd was given',
      0
    )
  end

  vim.api.nvim_create_autocmd('LspAttach', {
    group = state.augroup,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == M.NAME then
        attach(ev.buf, client)
      end
    end,
  })
  vim.api.nvim_create_autocmd('LspDetach', {
    group = state.augroup,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == M.NAME then
        detach(ev.buf)
      end
    end,
  })
  -- buffers an edgewise client is already attached to (setup called late)
  for _, client in ipairs(vim.lsp.get_clients({ name = M.NAME })) do
    for bufnr in pairs(client.attached_buffers) do
      attach(bufnr, client)
    end
  end

  require('edgewise.commands').create()
  if options.enable then
    vim.lsp.enable(M.NAME)
  end
end

return M
