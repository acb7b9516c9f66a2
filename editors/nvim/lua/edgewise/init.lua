--- edgewise for Neovim 0.11+: ghost-text completions, model code actions and the
--- cost/confidence report of each, on top of the built-in LSP client.
---
---   require('edgewise').setup({ settings = { model = '/path/to/model.gguf' } })
---
--- The server is found as the VS Code extension finds it: `cmd`, else the `.venv` of the
--- edgewise checkout this plugin is in, else `edgewise` on PATH (edgewise/server.lua).
--- Code actions come through vim.lsp.buf.code_action(); report diagnostics arrive as
--- native vim.diagnostic entries with source `edgewise` (report in user_data.lsp.data).
local config = require('edgewise.config')
local Ghost = require('edgewise.ghost').Ghost
local server = require('edgewise.server')
local status = require('edgewise.status')

local M = {}

M.NAME = 'edgewise'

---@class edgewise.State
---@field options edgewise.Options
---@field ghosts table<integer, edgewise.Ghost> by buffer
---@field status table<integer, edgewise.Status> by client id
---@field messages edgewise.Message[] the server's messages (newest last)
---@field progress table<integer, table<string|integer, edgewise.Progress>> runs in progress by client id
---@field located? edgewise.Located the server command and where it was found
---@field statusline_drawn? integer vim.uv.now() when a statusline last showed statusline()
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
--- statusline), e.g. `edgewise idle · 12 req · 0.0123 USD`; a notice such as
--- `edgewise hidden: not sure enough (0.03)` for a moment; the action running and its
--- progress; '' when there is none.
---@return string
function M.statusline()
  local client = M.client()
  local state = M.state
  if not client or not state then
    return ''
  end
  state.statusline_drawn = vim.uv.now()
  return status.line(state.status[client.id], state.progress[client.id])
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

--- The colour of ghost text: grey and italic, in true colour and in 256 colours (a
--- link to Comment has no colour in some colour schemes without 'termguicolors', and
--- ghost text then looks like code). A definition of the user's own wins (default).
local function define_highlights()
  local dark = vim.o.background ~= 'light'
  vim.api.nvim_set_hl(0, 'EdgewiseGhost', {
    fg = dark and '#808080' or '#8a8a8a',
    ctermfg = dark and 244 or 245,
    italic = true,
    default = true,
  })
  -- a note where a suggestion would be (e.g. why it was hidden): not ghost text
  vim.api.nvim_set_hl(0, 'EdgewiseNotice', { link = 'DiagnosticVirtualTextHint', default = true })
end

--- Report diagnostics in virtual text (when the user turns virtual text on): only the
--- report's summary, not the "model unsure here" hints on the same line, which would
--- otherwise take its place. The hints stay underlined and in the diagnostic float.
---@param client_id integer
local function configure_diagnostics(client_id)
  local ns = vim.lsp.diagnostic.get_namespace(client_id, false)
  vim.diagnostic.config({
    virtual_text = function()
      local global = vim.diagnostic.config() or {}
      local shown = global.virtual_text
      if not shown then
        return false
      end
      local opts = type(shown) == 'table' and vim.deepcopy(shown) or {}
      opts.severity = { min = vim.diagnostic.severity.INFO }
      return opts
    end,
  }, ns)
end

--- A notice (e.g. "hidden: not sure enough (0.03)") where it can be seen: in the
--- statusline when it shows edgewise's status (statusline() ran in the redraw the notice
--- asked for); else, while typing, at the end of the cursor's line, where the suggestion
--- would have been (until the next key; Neovim redraws "-- INSERT --" over a message);
--- else for a moment in the command line, on one line and not in :messages.
---@param notice edgewise.Notice
local function show_notice(notice)
  vim.defer_fn(function()
    local state = M.state
    local drawn = state and state.statusline_drawn
    if drawn and vim.uv.now() - drawn < 1000 then
      return
    end
    local text = 'edgewise ' .. notice.text
    local ghost = M.ghost()
    if ghost and ghost:note(text, notice.ms) then
      return
    end
    vim.api.nvim_echo(
      { { require('edgewise.messages').one_line(text, math.max(vim.v.echospace, 20)), 'ModeMsg' } },
      false,
      {}
    )
  end, 100)
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
  local located, not_found = server.locate(options.cmd)
  local state = {
    options = options,
    ghosts = {},
    status = {},
    messages = {},
    progress = {},
    located = located,
    augroup = vim.api.nvim_create_augroup('edgewise', { clear = true }),
  }
  M.state = state

  define_highlights()
  vim.api.nvim_create_autocmd('ColorScheme', { group = state.augroup, callback = define_highlights })

  local explain = require('edgewise.explain')
  ---@type vim.lsp.Config
  local lsp = {
    settings = as_json_object(options.settings),
    capabilities = {
      -- Neovim 0.11 has no inline completion of its own: this plugin renders it
      textDocument = { inlineCompletion = { dynamicRegistration = false } },
      -- edits that ask for confirmation are previewed (edgewise/preview.lua); annotated
      -- edits travel in documentChanges, which Neovim applies but does not declare
      workspace = {
        workspaceEdit = { documentChanges = true, changeAnnotationSupport = { groupsOnLabel = false } },
      },
    },
    handlers = {
      ['edgewise/status'] = function(_, params, ctx)
        if M.state and ctx.client_id and type(params) == 'table' then
          local notice = status.update(M.state.status, ctx.client_id, params)
          if notice then
            show_notice(notice)
          end
        end
      end,
      ['window/showMessage'] = require('edgewise.messages').handler(state.messages),
      ['workspace/applyEdit'] = require('edgewise.preview').handler,
      ['window/showDocument'] = explain.show_document,
    },
    commands = {
      [explain.COMMAND] = explain.command,
    },
  }
  lsp.cmd = located and located.cmd or options.cmd
  lsp.filetypes = options.filetypes
  lsp.root_markers = options.root_markers
  vim.lsp.config(M.NAME, lsp)
  local resolved = vim.lsp.config[M.NAME]
  if not resolved or not resolved.filetypes then
    error("edgewise.setup: lsp/edgewise.lua is not on 'runtimepath' (add the editors/nvim folder of edgewise to it)", 0)
  end

  vim.api.nvim_create_autocmd('LspAttach', {
    group = state.augroup,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if client and client.name == M.NAME then
        configure_diagnostics(client.id)
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
  vim.api.nvim_create_autocmd('LspProgress', {
    group = state.augroup,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      local params = ev.data.params or {}
      if client and client.name == M.NAME and M.state then
        status.progress(M.state.progress, client.id, params.token, params.value)
        explain.on_progress(client.id, params.value)
      end
    end,
  })
  -- buffers an edgewise client is already attached to (setup called late)
  for _, client in ipairs(vim.lsp.get_clients({ name = M.NAME })) do
    configure_diagnostics(client.id)
    for bufnr in pairs(client.attached_buffers) do
      attach(bufnr, client)
    end
  end

  require('edgewise.commands').create()
  if not options.enable then
    return
  end
  if not state.located then
    -- nothing to start: say so once, when a file edgewise would serve is opened
    vim.api.nvim_create_autocmd('FileType', {
      group = state.augroup,
      pattern = resolved.filetypes,
      once = true,
      callback = function()
        vim.schedule(function()
          vim.notify(not_found or server.not_found_message(), vim.log.levels.WARN, { title = 'edgewise' })
        end)
      end,
    })
    return
  end
  vim.lsp.enable(M.NAME)
end

return M
