--- Ghost text: textDocument/inlineCompletion results shown as extmarks (the first line
--- inline at the cursor, the rest as virtual lines below), one Ghost object per buffer.
---
--- Each keystroke asks the server at once: the server waits `debounceMs` and answers only
--- the newest request of a document (an older one gets an empty answer), so the plugin
--- has no timer of its own. An answer that no longer matches the buffer is dropped.
--- Dismissing (leaving insert mode, <C-]>, accepting) cancels the requests in flight
--- ($/cancelRequest). While the completion menu is open no ghost text is requested or
--- shown (no flicker).
local M = {}

local METHOD = 'textDocument/inlineCompletion'
local TRIGGER_AUTOMATIC = 2 -- lsp.InlineCompletionTriggerKind.Automatic

---@class edgewise.Suggestion
---@field item table the lsp.InlineCompletionItem
---@field shown string what is still to be inserted at the cursor (shown as ghost text)
---@field row integer 0-based row of the cursor it belongs to
---@field col integer 0-based byte column of the cursor it belongs to
---@field replace_end integer byte column on `row` up to which accepting replaces text
---@field tick integer b:changedtick it belongs to

---@class edgewise.Ghost
---@field bufnr integer
---@field client_id integer
---@field opts edgewise.GhostOptions
---@field ns integer extmark namespace
---@field augroup integer
---@field pending table<integer, true> ids of the requests in flight
---@field queued boolean a request is to be sent on the next turn of the event loop
---@field suggestion edgewise.Suggestion?
---@field mark integer? extmark id of the ghost text
---@field note_mark integer? extmark id of a note at the end of the cursor's line
---@field requests integer requests sent (for tests and :checkhealth)
---@field empty integer answers with nothing to show (a newer request superseded them)
---@field cancelled integer requests cancelled before their answer
local Ghost = {}
Ghost.__index = Ghost
M.Ghost = Ghost

---@param bufnr integer
---@param client_id integer
---@param opts edgewise.GhostOptions
---@return edgewise.Ghost
function Ghost.new(bufnr, client_id, opts)
  local self = setmetatable({
    bufnr = bufnr,
    client_id = client_id,
    opts = opts,
    ns = vim.api.nvim_create_namespace('edgewise.ghost'),
    augroup = vim.api.nvim_create_augroup('edgewise.ghost.' .. bufnr, { clear = true }),
    pending = {},
    queued = false,
    requests = 0,
    empty = 0,
    cancelled = 0,
  }, Ghost)
  self:_autocmds()
  return self
end

function Ghost:_autocmds()
  local group, buf = self.augroup, self.bufnr
  local function on(events, fn)
    vim.api.nvim_create_autocmd(events, { group = group, buffer = buf, callback = fn })
  end
  on('TextChangedI', function()
    self:on_text_changed()
  end)
  on('CursorMovedI', function()
    self:on_cursor_moved()
  end)
  on({ 'InsertLeave', 'BufLeave' }, function()
    self:dismiss()
  end)
  -- the completion menu owns the cursor while it is open: no ghost text next to it
  on({ 'CompleteChanged', 'TextChangedP' }, function()
    self:dismiss()
  end)
  on('CompleteDone', function()
    self:refresh()
  end)
end

--- Stop everything and forget the buffer.
function Ghost:detach()
  self:dismiss()
  pcall(vim.api.nvim_del_augroup_by_id, self.augroup)
end

---@return vim.lsp.Client?
function Ghost:client()
  return vim.lsp.get_client_by_id(self.client_id)
end

---@return boolean
local function pum_visible()
  return vim.fn.pumvisible() == 1
end

---@return boolean
local function in_insert_mode()
  return vim.api.nvim_get_mode().mode:sub(1, 1) == 'i'
end

--- The cursor of the current window as a 0-based (row, byte column) pair.
---@return integer, integer
local function cursor()
  local pos = vim.api.nvim_win_get_cursor(0)
  return pos[1] - 1, pos[2]
end

---@return boolean
function Ghost:visible()
  return self.suggestion ~= nil and self.mark ~= nil
end

--- The ghost text as it is shown (for tests and statuslines); nil when none is shown.
---@return string?
function Ghost:text()
  return self:visible() and self.suggestion.shown or nil
end

function Ghost:clear()
  if self.mark then
    pcall(vim.api.nvim_buf_del_extmark, self.bufnr, self.ns, self.mark)
    self.mark = nil
  end
  self:clear_note()
end

function Ghost:clear_note()
  if self.note_mark then
    pcall(vim.api.nvim_buf_del_extmark, self.bufnr, self.ns, self.note_mark)
    self.note_mark = nil
  end
end

--- A short note where the ghost text would be, at the end of the cursor's line (e.g.
--- "edgewise hidden: not sure enough (0.03)"), until the next keystroke or for `ms`.
--- False when it cannot be shown here (not typing in this buffer, or a suggestion is
--- shown).
---@param text string
---@param ms integer
---@return boolean
function Ghost:note(text, ms)
  if not in_insert_mode() or vim.api.nvim_get_current_buf() ~= self.bufnr or self:visible() then
    return false
  end
  self:clear_note()
  local row = cursor()
  local mark = vim.api.nvim_buf_set_extmark(self.bufnr, self.ns, row, 0, {
    virt_text = { { '  ' .. text, 'EdgewiseNotice' } },
    virt_text_pos = 'eol',
    hl_mode = 'combine',
    priority = 5000,
  })
  self.note_mark = mark
  vim.defer_fn(function()
    if self.note_mark == mark then
      self:clear_note()
    end
  end, ms)
  return true
end

--- Cancel the requests in flight ($/cancelRequest).
function Ghost:cancel()
  local client = self:client()
  for id in pairs(self.pending) do
    if client then
      client:cancel_request(id)
    end
    self.cancelled = self.cancelled + 1
  end
  self.pending = {}
end

--- Requests sent and not answered yet.
---@return integer
function Ghost:in_flight()
  return vim.tbl_count(self.pending)
end

--- Hide the ghost text and cancel what is pending.
function Ghost:dismiss()
  self:cancel()
  self:clear()
  self.suggestion = nil
end

--- Hide the ghost text and ask again, once the current keystroke is handled. A request
--- still in flight is left to the server, which answers only the newest one.
function Ghost:refresh()
  self:clear()
  self.suggestion = nil
  if not self.opts.enabled or pum_visible() or self.queued then
    return
  end
  self.queued = true
  vim.schedule(function()
    self.queued = false
    self:request()
  end)
end

function Ghost:on_text_changed()
  local s = self.suggestion
  if s and s.tick == vim.b[self.bufnr].changedtick then
    return -- our own edit (accept word)
  end
  if s and self:_typed_ahead() then
    return
  end
  self:refresh()
end

function Ghost:on_cursor_moved()
  local s = self.suggestion
  if not s then
    return
  end
  local row, col = cursor()
  if row ~= s.row or col ~= s.col then
    -- TextChangedI follows when the move came from typing; a plain move asks again
    if s.tick == vim.b[self.bufnr].changedtick then
      self:refresh()
    end
  end
end

--- The user typed the next characters of the suggestion: keep showing the rest, without
--- asking the server again. True if the suggestion still applies.
---@return boolean
function Ghost:_typed_ahead()
  local s = assert(self.suggestion)
  local row, col = cursor()
  if row ~= s.row or col <= s.col then
    return false
  end
  local line = vim.api.nvim_buf_get_lines(self.bufnr, row, row + 1, false)[1] or ''
  local typed = line:sub(s.col + 1, col)
  if s.shown:sub(1, #typed) ~= typed or #typed >= #s.shown then
    return false
  end
  s.shown = s.shown:sub(#typed + 1)
  s.replace_end = col + (s.replace_end - s.col)
  s.col = col
  s.tick = vim.b[self.bufnr].changedtick
  self:render()
  return true
end

--- Send textDocument/inlineCompletion for the cursor position.
function Ghost:request()
  if not self.opts.enabled or not in_insert_mode() or pum_visible() then
    return
  end
  if not vim.api.nvim_buf_is_valid(self.bufnr) or vim.api.nvim_get_current_buf() ~= self.bufnr then
    return
  end
  local client = self:client()
  if not client then
    return
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  ---@cast params lsp.InlineCompletionParams
  params.context = { triggerKind = TRIGGER_AUTOMATIC }
  local row, col = cursor()
  local tick = vim.b[self.bufnr].changedtick
  local id ---@type integer?
  local ok, sent = client:request(METHOD, params, function(err, result)
    if not id or not self.pending[id] then
      return -- cancelled
    end
    self.pending[id] = nil
    if err then
      return
    end
    if not result or #(result.items or result) == 0 then
      self.empty = self.empty + 1 -- superseded by a newer request, or nothing to say
      return
    end
    self:_show(result, row, col, tick)
  end, self.bufnr)
  if ok and sent then
    id = sent
    self.pending[id] = true
    self.requests = self.requests + 1
  end
end

---@param item table
---@return string?
local function insert_text(item)
  local text = item.insertText
  if type(text) == 'table' then
    text = text.value -- a StringValue snippet: shown and inserted as plain text
  end
  return type(text) == 'string' and text or nil
end

---@param result table lsp.InlineCompletionList|lsp.InlineCompletionItem[]
---@param row integer
---@param col integer
---@param tick integer
function Ghost:_show(result, row, col, tick)
  if not vim.api.nvim_buf_is_valid(self.bufnr) or vim.api.nvim_get_current_buf() ~= self.bufnr then
    return
  end
  local crow, ccol = cursor()
  if not in_insert_mode() or pum_visible() then
    return
  end
  if crow ~= row or ccol ~= col or vim.b[self.bufnr].changedtick ~= tick then
    return -- the buffer moved on while the model was thinking
  end
  local client = self:client()
  local items = result.items or result
  local line = vim.api.nvim_buf_get_lines(self.bufnr, row, row + 1, false)[1] or ''
  for _, item in ipairs(items) do
    local text = insert_text(item)
    local start_col, end_col = col, col
    if text and item.range and client then
      -- the item replaces item.range: what is already typed inside it is not shown again
      local r = item.range
      if r.start.line ~= row or r['end'].line ~= row then
        text = nil
      else
        start_col = vim.str_byteindex(line, client.offset_encoding, r.start.character, false)
        end_col = vim.str_byteindex(line, client.offset_encoding, r['end'].character, false)
        local typed = line:sub(start_col + 1, col)
        if start_col > col or text:sub(1, #typed) ~= typed then
          text = nil
        else
          text = text:sub(#typed + 1)
        end
      end
    end
    if text and text ~= '' then
      self.suggestion = {
        item = item,
        shown = text,
        row = row,
        col = col,
        replace_end = math.max(col, end_col),
        tick = tick,
      }
      self:render()
      return
    end
  end
end

--- A line of ghost text as it is drawn: tabs expanded from display column `start`,
--- control characters spelled out (^L), so that virtual text looks like the inserted text.
---@param text string
---@param start integer display column where the text begins
---@param tabstop integer
---@return string
local function displayed(text, start, tabstop)
  local out, column = {}, start
  for piece, tab in text:gmatch('([^\t]*)(\t?)') do
    piece = vim.fn.strtrans(piece)
    table.insert(out, piece)
    column = column + vim.fn.strdisplaywidth(piece)
    if tab ~= '' then
      local width = tabstop - column % tabstop
      table.insert(out, string.rep(' ', width))
      column = column + width
    end
  end
  return table.concat(out)
end
M.displayed = displayed

--- Draw the suggestion: first line inline at the cursor, the others as virtual lines.
function Ghost:render()
  local s = self.suggestion
  if not s then
    return
  end
  local hl = self.opts.hl_group
  local tabstop = vim.bo[self.bufnr].tabstop
  local line = vim.api.nvim_buf_get_lines(self.bufnr, s.row, s.row + 1, false)[1] or ''
  local lines = vim.split(s.shown, '\n', { plain = true })
  local opts = {
    id = self.mark,
    hl_mode = 'combine',
    priority = 5000,
  }
  if lines[1] ~= '' then
    local start = vim.fn.strdisplaywidth(line:sub(1, s.col))
    opts.virt_text = { { displayed(lines[1], start, tabstop), hl } }
    opts.virt_text_pos = 'inline'
  end
  if #lines > 1 then
    opts.virt_lines = {}
    for i = 2, #lines do
      table.insert(opts.virt_lines, { { displayed(lines[i], 0, tabstop), hl } })
    end
  end
  self.mark = vim.api.nvim_buf_set_extmark(self.bufnr, self.ns, s.row, s.col, opts)
end

---@param text string
---@return string[]
local function split(text)
  return vim.split(text, '\n', { plain = true })
end

--- Put `text` at the suggestion's cursor (replacing up to replace_end when `replace`) and
--- move the cursor after it.
---@param s edgewise.Suggestion
---@param text string
---@param replace boolean
---@return integer row, integer col the new cursor (0-based row, byte column)
function Ghost:_insert(s, text, replace)
  local lines = split(text)
  local end_col = replace and s.replace_end or s.col
  vim.api.nvim_buf_set_text(self.bufnr, s.row, s.col, s.row, end_col, lines)
  local row = s.row + #lines - 1
  local col = (#lines == 1 and s.col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { row + 1, col })
  return row, col
end

--- Run the item's command (edgewise.inlineAccepted): the server then publishes the
--- report diagnostic of the accepted text.
---@param item table
function Ghost:_accepted(item)
  local client = self:client()
  if client and item.command then
    client:exec_cmd(item.command, { bufnr = self.bufnr })
  end
end

--- Insert the whole suggestion. False when there is none.
---@return boolean
function Ghost:accept()
  local s = self.suggestion
  if not self:visible() or not s then
    return false
  end
  self:cancel()
  self:clear()
  self.suggestion = nil
  self:_insert(s, s.shown, true)
  self:_accepted(s.item)
  return true
end

--- Insert the next word of the suggestion (a newline with its indentation counts as one).
---@return boolean
function Ghost:accept_word()
  local s = self.suggestion
  if not self:visible() or not s then
    return false
  end
  local piece = s.shown:match('^\n[ \t]*')
    or s.shown:match('^[ \t]*[%w_]+')
    or s.shown:match('^[ \t]*[^%w_%s]+')
    or s.shown:match('^[ \t]+')
    or s.shown:sub(1, 1)
  local rest = s.shown:sub(#piece + 1)
  if rest == '' then
    return self:accept()
  end
  self:cancel()
  local replaced = s.replace_end - s.col -- text after the cursor that accepting replaces
  local row, col = self:_insert(s, piece, false)
  s.shown, s.row, s.col, s.replace_end = rest, row, col, col + replaced
  s.tick = vim.b[self.bufnr].changedtick
  self:render()
  return true
end

return M
